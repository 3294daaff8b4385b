"""Per-sender statistics: loss, duplicates, restarts, intervals, auth, foreign senders."""

from __future__ import annotations

from hadoctor.parsers.authkeys import parse_authkeys
from hadoctor.wire.auth import OK, UNKNOWN_INDEX, WRONG_KEY
from hadoctor.wire.codec import Message, encode_classic, encode_netstring, status_message
from hadoctor.wire.pcap import UdpPacket
from hadoctor.wire.summary import Summarizer, method_from_token, percentile, summarize

KEYS = parse_authkeys(b"auth 1\n1 sha1 k1\n2 md5 k2\n", "authkeys")


def packet(ts, src, payload, address="10.0.0.1"):
    return UdpPacket(ts, address, 5000, "10.0.0.255", 694, payload)


def status(node, seq, hg=1, st="active", signer=(1, "sha1", "k1"), encode=encode_netstring, dt=6000):
    return encode(status_message(node, seq=seq, hg=hg, ts=seq, st=st, dt=dt), signer)


def test_loss_late_arrival_duplicates_and_restarts():
    seqs = [1, 2, 5, 3, 3, 6]
    packets = [packet(float(i), "n1", status("n1", s)) for i, s in enumerate(seqs)]
    packets += [packet(10.0, "n1", status("n1", 1, hg=2)), packet(11.0, "n1", status("n1", 9, hg=1))]
    stats = summarize(packets, KEYS, ["n1"]).senders[("n1", "10.0.0.1")]
    assert stats.gaps == [(2, 5)] and stats.recovered == 1 and stats.lost == 0 + 1  # 4 never came
    assert stats.duplicates == 1
    assert stats.generations == [1, 2, 1] and stats.restarts == 1 and stats.hg_backwards == 1
    assert stats.packets == 8 and stats.highest_seq == 9


def test_sequence_is_shared_by_message_types_and_ns_messages_have_none():
    s = Summarizer(KEYS, ["n1"])
    other = Message([("t", "resource"), ("src", "n1"), ("seq", "2"), ("hg", "1"), ("ts", "1")])
    ack = Message([("t", "NS_ackmsg"), ("src", "n1"), ("hg", "1"), ("ts", "1")])
    for i, payload in enumerate([status("n1", 1), encode_netstring(other, (1, "sha1", "k1")),
                                 encode_netstring(ack, (1, "sha1", "k1")), status("n1", 3)]):
        s.add_packet(packet(float(i), "n1", payload))
    stats = s.result().senders[("n1", "10.0.0.1")]
    assert stats.lost == 0 and stats.types == {"status": 2, "resource": 1, "NS_ackmsg": 1}
    assert stats.status_times == [0.0, 3.0]


def test_intervals_changes_formats_and_auth():
    s = Summarizer(KEYS, ["n1", "n2"])
    times = [0.0, 1.0, 2.0, 3.0, 4.5]
    for seq, ts in enumerate(times, start=1):
        st = "up" if seq < 3 else "active"
        encode = encode_classic if seq % 2 else encode_netstring
        s.add_packet(packet(ts, "n1", status("n1", seq, st=st, encode=encode, dt=8000 if seq < 4 else 6000)))
    s.add_packet(packet(5.0, "n1", status("n1", 6, signer=(2, "md5", "k2"))))
    s.add_packet(packet(6.0, "n1", status("n1", 7, signer=(1, "sha1", "bad"))))
    s.add_packet(packet(7.0, "n1", status("n1", 8, signer=(5, "sha1", "k1"))))
    stats = s.result().senders[("n1", "10.0.0.1")]
    assert stats.formats == {"classic": 3, "netstring": 5}
    assert stats.interval_ms() == {"p50": 1000.0, "p99": 1500.0, "max": 1500.0, "count": 7}
    assert [(c.field, c.old, c.new, c.ts) for c in stats.changes] == [("st", "up", "active", 2.0),
                                                                    ("dt", "1f40", "1770", 3.0)]
    assert stats.auth_results == {OK: 6, WRONG_KEY: 1, UNKNOWN_INDEX: 1}
    assert stats.peer_results[WRONG_KEY] == 2  # md5 index 2 with the active sha1 key, and the bad key
    assert stats.auth_indexes == {1: 6, 2: 1, 5: 1} and stats.auth_methods == {"sha1": 7, "md5": 1}


def test_foreign_senders_undecodable_and_json():
    import json
    packets = [packet(1.0, "n1", status("n1", 1)),
               packet(2.0, "web01", status("web01", 1, signer=(3, "md5", "theirs")), "10.0.0.9"),
               packet(3.0, "?", b"hello world", "10.0.0.7"),
               packet(4.0, "?", b"###\n99:", "10.0.0.7")]
    summary = summarize(packets, KEYS, ["N1", "n2"])
    assert summary.packets == 4 and summary.undecodable == {"10.0.0.7": 2}
    [foreign] = summary.foreign
    assert (foreign.node, foreign.address, foreign.auth_indexes, foreign.methods, foreign.our_method) == \
        ("web01", "10.0.0.9", (3,), ("md5",), None)
    assert foreign.auth_results == {UNKNOWN_INDEX: 1}
    text = json.dumps(summary.to_dict())
    assert "web01" in text and "k1" not in text and "theirs" not in text


def test_without_authkeys_or_node_list():
    summary = summarize([packet(1.0, "n1", status("n1", 1))])
    stats = summary.senders[("n1", "10.0.0.1")]
    assert stats.auth_results == {} and stats.auth_indexes == {1: 1} and summary.foreign == []
    assert stats.interval_ms() is None


def test_helpers():
    assert method_from_token("a" * 40) == "sha1" and method_from_token("a" * 32) == "md5"
    assert method_from_token("1f") == "crc" and method_from_token("xyz") is None and method_from_token(None) is None
    assert percentile([5.0, 1.0, 3.0], 50) == 3.0 and percentile([1.0] * 99 + [9.0], 99) == 1.0
    assert percentile([1.0] * 98 + [9.0, 9.0], 99) == 9.0
