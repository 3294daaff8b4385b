"""The pcap reader: formats, link types, IPv4/IPv6, and damaged files (one typed error)."""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hadoctor.errors import InputError
from hadoctor.wire.pcap import PcapError, PcapReader, UdpPacket, read_pcap
from tests.wire import pcapbuild as pb
from tests.wire.conftest import LAB, lab_packets

PAYLOAD = b"###\n11:(0)t=status,%%%\n"


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
@pytest.mark.parametrize("linktype", [1, 113, 276, 101, 228])
def test_ipv4_udp_in_every_format(order, nano, linktype):
    ip = pb.ipv4_udp("10.0.0.1", "10.0.0.255", 40000, 694, PAYLOAD)
    data = pb.pcap([(1700000000.25, pb.frame(linktype, ip)), (1700000001.5, pb.frame(linktype, ip))],
                   linktype, order, nano)
    reader = PcapReader(data)
    packets = list(reader)
    assert packets == [UdpPacket(1700000000.25, "10.0.0.1", 40000, "10.0.0.255", 694, PAYLOAD, False),
                       UdpPacket(1700000001.5, "10.0.0.1", 40000, "10.0.0.255", 694, PAYLOAD, False)]
    assert reader.linktype == linktype and reader.stats["udp"] == 2 and reader.byte_order == order
    assert reader.resolution == (1e-9 if nano else 1e-6)


@pytest.mark.parametrize("linktype", [1, 113, 276, 101, 229])
def test_ipv6_udp(linktype):
    for hop in (False, True):
        ip = pb.ipv6_udp("fd00::1", "fd00::2", 5000, 694, PAYLOAD, hop_by_hop=hop)
        [packet] = read_pcap(pb.pcap([(1.0, pb.frame(linktype, ip))], linktype))
        assert (packet.src, packet.dst, packet.sport, packet.dport, packet.payload) == \
            ("fd00::1", "fd00::2", 5000, 694, PAYLOAD)


def test_vlan_tag_fragments_and_other_protocols():
    ip = pb.ipv4_udp("10.0.0.1", "10.0.0.2", 1, 694, PAYLOAD)
    records = [(1.0, pb.frame(1, ip, vlan=True)),
               (2.0, pb.frame(1, pb.ipv4_udp("10.0.0.1", "10.0.0.2", 1, 694, PAYLOAD, frag=0x2000))),
               (3.0, pb.frame(1, pb.ipv4_udp("10.0.0.1", "10.0.0.2", 1, 694, PAYLOAD, proto=6))),
               (4.0, b"\xff" * 12 + b"\x08\x06" + bytes(28)),  # ARP
               (5.0, b"\xff" * 12 + b"\x08\x00" + b"\x45\x00")]  # cut IPv4 header
    reader = PcapReader(pb.pcap(records))
    assert [p.ts for p in reader] == [1.0]
    assert reader.stats == {"records": 5, "udp": 1, "not_udp": 2, "fragments": 1, "malformed": 1}


def test_snaplen_truncated_datagram_is_flagged():
    ip = pb.ipv4_udp("10.0.0.1", "10.0.0.2", 1, 694, PAYLOAD)
    [packet] = read_pcap(pb.pcap([(1.0, pb.frame(101, ip)[:-5])], 101))
    assert packet.truncated and packet.payload == PAYLOAD[:-5]


@pytest.mark.parametrize("data,expected", [
    (b"", "empty"),
    (b"\xd4\xc3\xb2", "too short"),
    (b"\x0a\x0d\x0d\x0a" + bytes(40), "pcapng"),
    (b"GIF89a" + bytes(40), "not a pcap"),
    (struct.pack("<IHHiIII", 0xA1B2C3D4, 3, 0, 0, 0, 65535, 1), "version"),
    (struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 147), "link type 147"),
])
def test_bad_files(data, expected):
    with pytest.raises(PcapError) as info:
        list(read_pcap(data))
    assert expected in str(info.value)
    assert isinstance(info.value, InputError) and info.value.exit_code == 2


def test_cut_files_yield_what_precedes_the_damage():
    ip = pb.ipv4_udp("10.0.0.1", "10.0.0.2", 1, 694, PAYLOAD)
    whole = pb.pcap([(1.0, pb.frame(1, ip)), (2.0, pb.frame(1, ip))])
    for cut, where in ((len(whole) - 3, "inside the record"), (len(whole) - len(pb.frame(1, ip)) - 5, "header")):
        seen = []
        with pytest.raises(PcapError) as info:
            for packet in read_pcap(whole[:cut]):
                seen.append(packet)
        assert len(seen) == 1 and where in str(info.value)
    huge = whole[:24] + struct.pack("<IIII", 1, 0, 10_000_000, 10_000_000)
    with pytest.raises(PcapError, match="damaged"):
        list(read_pcap(huge))
    bad_frac = whole[:24] + struct.pack("<IIII", 1, 2_000_000, 0, 0)
    with pytest.raises(PcapError, match="timestamp"):
        list(read_pcap(bad_frac))


def test_paths_and_file_objects(tmp_path):
    ip = pb.ipv4_udp("10.0.0.1", "10.0.0.2", 1, 694, PAYLOAD)
    data = pb.pcap([(1.0, pb.frame(1, ip))])
    path = tmp_path / "x.pcap"
    path.write_bytes(data)
    assert list(read_pcap(path)) == list(read_pcap(str(path))) == list(read_pcap(io.BytesIO(data)))
    with pytest.raises(PcapError) as info:
        list(read_pcap(tmp_path / "missing.pcap"))
    assert "missing.pcap" in str(info.value)
    with pytest.raises(PcapError):
        list(read_pcap(tmp_path))  # a directory


def test_real_lab_captures():
    for scenario, count in (("healthy", 69), ("foreign-cluster", 133), ("authkeys-mismatch", 52)):
        reader = PcapReader(LAB / scenario / "heartbeat.pcap")
        packets = list(reader)
        assert len(packets) == count and reader.linktype == 1 and reader.stats["records"] == count
        assert all(p.dport == 694 and p.dst.endswith(".255") and not p.truncated for p in packets)
        assert all(a.ts <= b.ts for a, b in zip(packets, packets[1:]))
    assert {p.src for p in lab_packets("foreign-cluster")} == {f"10.250.10.{n}" for n in (11, 12, 13, 14)}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_pcap_error(data):
    header = pb.pcap([], 1)
    for candidate in (data, header + data, header[:20] + data):
        try:
            for packet in read_pcap(candidate):
                assert isinstance(packet, UdpPacket)
        except PcapError:
            pass
