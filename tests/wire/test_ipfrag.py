"""IP fragment reassembly: in any order, IPv4 and IPv6, through the pcap reader and probe listen; hostile
fragment sets (overlaps, conflicting ends, the ping of death, floods of tiny fragments, too many datagrams in
flight) give named counts, bounded memory and linear time. A real capture: tests/probe/test_fragments_live.py."""

from __future__ import annotations

import random
import time

import pytest

from hadoctor.wire.codec import decode, encode_classic, status_message
from hadoctor.wire.ipfrag import MAX_DATAGRAM, Reassembler
from hadoctor.wire.pcap import PcapReader, heartbeat_packets, CaptureNotes
from tests.wire import pcapbuild as pb

BIG = encode_classic(status_message("node01", seq=1, hg=1, ts=1).add("resources", "IPaddr::10.250.1.100 " * 200))


def _pieces(data: bytes, size: int = 64):
    return pb.split(data, size)


@pytest.mark.parametrize("order", ["in order", "reversed", "shuffled"])
def test_any_order_gives_the_datagram_once(order):
    pieces = _pieces(bytes(range(256)) * 10)
    if order == "reversed":
        pieces.reverse()
    elif order == "shuffled":
        random.Random(7).shuffle(pieces)
    r = Reassembler()
    out = [r.add("k", at, more, data, 1.0) for at, more, data in pieces]
    assert [o for o in out if o is not None] == [bytes(range(256)) * 10]
    assert out[-1] is not None  # the one that completes it
    r.finish()
    assert r.stats == {"reassembled": 1, "incomplete": 0, "overlapping": 0, "dropped": 0, "cut": 0, "duplicates": 0}


def test_exact_duplicates_are_ignored_and_two_datagrams_interleave():
    r = Reassembler()
    a, b = _pieces(b"A" * 200), _pieces(b"B" * 200)
    got = []
    for x, y in zip(a, b):
        got += [r.add("a", x[0], x[1], x[2], 1.0), r.add("a", x[0], x[1], x[2], 1.0), r.add("b", *y, 1.0)]
    assert [g for g in got if g] == [b"A" * 200, b"B" * 200]
    assert r.stats["duplicates"] == len(a) and r.stats["reassembled"] == 2


@pytest.mark.parametrize("name,fragments", [
    ("partial overlap", [(0, True, b"x" * 16), (8, True, b"y" * 16), (24, False, b"z")]),
    ("same offset, other bytes", [(0, True, b"x" * 16), (0, True, b"y" * 16), (16, False, b"z")]),
    ("inside another", [(0, True, b"x" * 32), (8, True, b"y" * 8), (32, False, b"z")]),
    ("two different ends", [(16, False, b"z"), (24, False, b"z"), (0, True, b"x" * 16)]),
    ("past the end", [(16, False, b"z"), (24, True, b"y" * 8), (0, True, b"x" * 16)]),
])
def test_overlapping_or_conflicting_fragments_drop_the_datagram(name, fragments):
    r = Reassembler()
    assert all(r.add("k", *f, 1.0) is None for f in fragments), name
    r.finish()
    assert r.stats["overlapping"] == 1 and r.stats["reassembled"] == 0 and r.stats["incomplete"] == 0, r.stats


@pytest.mark.parametrize("name,fragments", [
    ("ping of death", [(0, True, b"x" * 8), (MAX_DATAGRAM - 4, False, b"y" * 8)]),
    ("not a multiple of 8", [(0, True, b"x" * 9), (9, False, b"y")]),
    ("empty middle fragment", [(0, True, b""), (0, False, b"y")]),
])
def test_malformed_fragment_sets_are_dropped(name, fragments):
    r = Reassembler()
    assert all(r.add("k", *f, 1.0) is None for f in fragments), name
    r.finish()
    assert r.stats["dropped"] == 1 and r.stats["reassembled"] == 0, r.stats


def test_limits_bound_memory_and_count_what_they_drop():
    r = Reassembler(max_datagrams=10, max_bytes=1000, max_fragments=5)
    for i in range(50):  # 50 datagrams in flight: only the newest 10 kept
        r.add(i, 0, True, b"x" * 8, 1.0)
    assert len(r._pending) == 10 and r.stats["dropped"] == 40
    r.add("big", 0, True, b"x" * 2000, 1.0)  # more bytes than allowed in flight
    assert r._bytes <= 1000
    for at in range(0, 80, 8):  # a sixth fragment of one datagram
        r.add("many", at, True, b"y" * 8, 1.0)
    assert "many" not in r._pending
    assert r.add("many", 80, False, b"z", 1.0) is None  # its later fragments are ignored, not counted again


def test_fragments_expire_after_the_timeout_in_capture_time():
    r = Reassembler(timeout=30.0)
    r.add("old", 0, True, b"x" * 8, 100.0)
    r.add("new", 0, True, b"x" * 8, 125.0)
    assert r.add("old", 8, False, b"y", 131.0) is None  # 31 s later: gone, this is a new incomplete one
    assert r.stats["incomplete"] == 1
    assert r.add("new", 8, False, b"y", 131.0) == b"x" * 8 + b"y"


def test_a_cut_fragment_is_named():
    r = Reassembler()
    r.add("k", 0, True, b"x" * 8, 1.0, cut=True)
    assert r.add("k", 8, False, b"y", 1.0) is None
    assert r.stats["cut"] == 1 and r.stats["incomplete"] == 0


def test_hostile_floods_take_linear_time():
    """1,024 8-byte fragments of one 8 KB datagram in reverse order, and 60,000 datagrams that never
    complete: a quadratic overlap check or eviction would take minutes; this takes well under a second."""
    took = []
    for n in (30_000, 60_000):
        r = Reassembler()
        start = time.process_time()
        for at in range(1023 * 8, -1, -8):
            r.add("one", at, at < 1023 * 8, b"12345678", 1.0)
        for i in range(n):
            r.add(i, 8 * (i % 100), True, b"abcdefgh", 1.0 + i * 1e-4)
        r.finish()
        took.append(time.process_time() - start)
        assert r.stats["reassembled"] == 1 and r.stats["dropped"] + r.stats["incomplete"] == n
    assert took[1] < 2.0 and took[1] < 3 * took[0] + 0.1, took


# ------------------------------------------------------------------ through the pcap reader

@pytest.mark.parametrize("family", [4, 6])
@pytest.mark.parametrize("linktype", [1, 113, 101])
def test_pcap_reader_reassembles_a_heartbeat_message(family, linktype):
    datagram = pb.udp_datagram(40000, 694, BIG)
    if family == 4:
        src, dst, make = "10.250.214.1", "10.250.214.2", pb.ipv4_fragment
    else:
        src, dst, make = "fd00::1", "fd00::2", pb.ipv6_fragment
    pieces = pb.split(datagram, 552)
    records = [(10.0 + i / 10, pb.frame(linktype, make(src, dst, 77, at, more, data)))
               for i, (at, more, data) in enumerate(reversed(pieces))]
    reader = PcapReader(pb.pcap(records, linktype))
    [packet] = list(reader)
    assert (packet.src, packet.dst, packet.sport, packet.dport) == (src, dst, 40000, 694)
    assert packet.payload == BIG and packet.reassembled and not packet.truncated
    assert packet.ts == records[-1][0]  # the datagram is whole at its last fragment
    assert reader.stats["fragments"] == len(pieces) >= 6 and reader.reassembly.stats["reassembled"] == 1
    assert decode(packet.payload).message.get("t") == "status"


def test_capture_notes_name_reassembled_and_broken_sets():
    datagram = pb.udp_datagram(40000, 694, BIG)
    pieces = pb.split(datagram, 552)
    good = [pb.ipv4_fragment("10.250.214.1", "10.250.214.2", 1, *p) for p in pieces]
    lost = [pb.ipv4_fragment("10.250.214.1", "10.250.214.2", 2, *p) for p in pieces[:-1]]
    overlap = [pb.ipv4_fragment("10.250.214.1", "10.250.214.2", 3, *p) for p in pieces[:2]] + \
        [pb.ipv4_fragment("10.250.214.1", "10.250.214.2", 3, 8, True, b"x" * 16)]
    records = [(1.0, pb.frame(1, ip)) for ip in good + lost + overlap]
    notes = CaptureNotes()
    assert [p.payload for p in heartbeat_packets(pb.pcap(records), [694], notes)] == [BIG]
    assert notes.reassembled == 1
    assert notes.reassembly["incomplete"] == 1 and notes.reassembly["overlapping"] == 1
