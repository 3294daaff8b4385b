"""Real packets from heartbeat 3.0.6 (Debian bookworm, glue 1.0.12) captured in the lab."""

from __future__ import annotations

import pytest

from hadoctor.parsers.hacf import parse_hacf
from hadoctor.wire.auth import OK, WRONG_KEY, verify
from hadoctor.wire.codec import NETSTRING, decode, encode_netstring, netstring_body
from hadoctor.wire.summary import summarize
from tests.wire.conftest import CAPTURES, LAB, lab_authkeys, lab_packets


@pytest.mark.parametrize("scenario", CAPTURES)
def test_every_captured_packet_decodes_as_netstring_with_both_authenticators(scenario):
    packets = lab_packets(scenario)
    assert packets
    for packet in packets:
        d = decode(packet.payload)
        m = d.message
        assert d.format == NETSTRING and d.length == len(packet.payload) and d.trailing == 0
        assert not d.compressed
        assert m.names()[-1] == "auth" and m.src and m.ts and m.type
        assert d.trailer.index == 1 and len(d.trailer.token) == 40
        assert d.field_auth.index == 1 and len(d.field_auth.token) == 40
        assert d.trailer.covered == packet.payload[:packet.payload.rindex(b"%%%\n") + 4]
        # re-encoding the decoded fields gives the captured bytes back, byte for byte
        assert netstring_body(m) == d.trailer.covered
        if not m.type.startswith("NS_"):
            assert m.seq and m.seq > 0


def test_healthy_packets_verify_with_node01_authkeys():
    keys = lab_authkeys("healthy", "node01")
    assert keys.active.method == "sha1"
    senders = set()
    for packet in lab_packets("healthy"):
        verdict = verify(decode(packet.payload), keys)
        assert verdict.result == OK and verdict.field_check.result == OK and verdict.peer.accepts
        senders.add(decode(packet.payload).message.src)
    assert senders == {"node01", "node02"}


def test_healthy_resigning_reproduces_the_captured_bytes():
    """Our encoder with node01's authkeys rebuilds a real packet exactly (both authenticators)."""
    keys = lab_authkeys("healthy", "node01")
    for packet in lab_packets("healthy")[:10]:
        m = decode(packet.payload).message
        assert encode_netstring(m, keys) == packet.payload


def test_foreign_cluster_packets_verify_only_with_their_own_key():
    ours, theirs = lab_authkeys("foreign-cluster", "node01"), lab_authkeys("foreign-cluster", "web01")
    seen = {"node01": 0, "node02": 0, "web01": 0, "web02": 0}
    for packet in lab_packets("foreign-cluster"):
        d = decode(packet.payload)
        src = d.message.src
        seen[src] += 1
        with_ours, with_theirs = verify(d, ours), verify(d, theirs)
        if src.startswith("web"):
            assert with_theirs.result == OK and with_ours.result == WRONG_KEY and not with_ours.peer.accepts
            assert with_ours.check.matching == ()
        else:
            assert with_ours.result == OK and with_theirs.result == WRONG_KEY
    assert all(count > 10 for count in seen.values()), seen


def test_foreign_cluster_summary_lists_web01_and_web02():
    summary = summarize(lab_packets("foreign-cluster"), lab_authkeys("foreign-cluster", "node01"),
                        ["node01", "node02"])
    foreign = {(f.node, f.address): f for f in summary.foreign}
    assert set(foreign) == {("web01", "10.250.10.13"), ("web02", "10.250.10.14")}
    for f in foreign.values():
        assert f.auth_indexes == (1,) and f.methods == ("sha1",) and f.our_method == "sha1"
        assert set(f.auth_results) == {WRONG_KEY}
    assert not summary.undecodable


def test_authkeys_mismatch_each_node_verifies_only_with_its_own_file():
    keys = {node: lab_authkeys("authkeys-mismatch", node) for node in ("node01", "node02")}
    assert keys["node01"].active.fingerprint != keys["node02"].active.fingerprint
    counts = {"node01": 0, "node02": 0}
    for packet in lab_packets("authkeys-mismatch"):
        d = decode(packet.payload)
        src = d.message.src
        other = "node02" if src == "node01" else "node01"
        assert verify(d, keys[src]).result == OK
        assert verify(d, keys[other]).result == WRONG_KEY and not verify(d, keys[other]).peer.accepts
        counts[src] += 1
    assert min(counts.values()) > 10


def test_healthy_keepalive_matches_ha_cf():
    cf = parse_hacf((LAB / "healthy" / "node01" / "ha.cf").read_bytes())
    keepalive_ms = cf.keepalive.value
    assert keepalive_ms == 1000
    summary = summarize(lab_packets("healthy"), lab_authkeys("healthy", "node01"), ["node01", "node02"])
    assert set(summary.senders) == {("node01", "10.250.1.11"), ("node02", "10.250.1.12")}
    assert summary.foreign == []
    for stats in summary.senders.values():
        interval = stats.interval_ms()
        assert interval["count"] >= 15
        assert abs(interval["p50"] - keepalive_ms) <= 0.05 * keepalive_ms, interval
        assert interval["max"] < 1.5 * keepalive_ms, interval
        assert stats.lost == 0 and stats.duplicates == 0 and stats.restarts == 0
        assert stats.auth_results == {OK: stats.packets} and stats.peer_results == {OK: stats.packets}
        # st goes init -> up -> active; dt drops from deadtime+2000 to deadtime after ~5 s
        # (docs/heartbeat/wire.md#status-message-fields)
        changes = [(c.field, c.old, c.new) for c in stats.changes]
        assert ("st", "init", "up") in changes and ("st", "up", "active") in changes
        assert ("dt", "%x" % (cf.deadtime.value + 2000), "%x" % cf.deadtime.value) in changes
