"""``probe exchange`` without a network: the message shape (never a node's identity), the
per-direction bookkeeping and the verdict logic."""

from __future__ import annotations

import pytest

from hadoctor.errors import UsageError
from hadoctor.parsers.authkeys import parse_authkeys
from hadoctor.probe import exchange as ex
from hadoctor.wire import decode, encode_classic, verify

KEYS = parse_authkeys(b"auth 1\n1 sha1 unit-test-key\n", "authkeys")
OTHER = parse_authkeys(b"auth 1\n1 sha1 another-key\n", "authkeys")


def msg(**kw):
    base = dict(src=ex.probe_source("node02"), seq=1, ts=0x65a0f000, run=7)
    base.update(kw)
    return ex.probe_message(**base)


def test_message_is_not_a_status_and_not_a_node():
    m = msg(echo=5, held_us=1200, rcvd=4, first=1)
    assert m.get("t") == "hadoctor-probe" and m.get("t") != "status"
    assert m.get("src") == "hadoctor-probe-node02" and m.get("src") != "node02"
    assert m.names()[:5] == ["t", "src", "seq", "hg", "ts"]
    assert m.get("echo") == "5" and m.get("held") == "1200" and m.get("rcvd") == "4"
    with pytest.raises(ValueError):
        ex.probe_message(src="node02", seq=1, ts=1, run=1)


def test_signed_message_round_trips_and_verifies():
    data = encode_classic(msg(seq=0x2a), KEYS)
    d = decode(data)
    assert d.message.get("t") == "hadoctor-probe" and d.message.get("seq") == "2a"
    assert verify(d, KEYS).ok
    assert verify(d, OTHER).result == "wrong-key"


@pytest.mark.parametrize("inn, out, code", [
    ("ok", "ok", ex.PATH_OK), ("ok", "unknown", ex.PATH_OK), ("ok", "blocked", ex.BLOCKED_OUT),
    ("blocked", "unknown", ex.BLOCKED_IN), ("blocked", "blocked", ex.BOTH_BLOCKED),
    ("unverified", "unknown", ex.KEY_MISMATCH), ("ok", "unverified", ex.KEY_MISMATCH),
    ("never", "unknown", ex.NO_ANSWER)])
def test_verdict_table(inn, out, code):
    assert ex.verdict(inn, out) == code
    assert ex.verdict_text(code, "10.0.0.1", "10.0.0.2")


def _feed(st, t, seq, *, echo=0, rcvd=0, first=0, bye=False):
    st.on_peer_message(msg(seq=seq, echo=echo, rcvd=rcvd, first=first, held_us=0, bye=bye), t)


def test_healthy_exchange_gives_rtt_and_no_loss():
    st = ex.State(interval_s=0.2)
    for i in range(1, 21):
        t = i * 0.2
        st.on_send(i, t)
        _feed(st, t + 0.005, i, echo=i, rcvd=i, first=1)
    a = ex.assess(st, 4.1)
    assert a == {"in": "ok", "out": "ok", "verdict": ex.PATH_OK}
    assert abs(ex.percentile(st.rtts_ms, 50) - 5.0) < 0.01
    doc = ex.report(st, local="a", peer="b", port=19694, interval_ms=200, seconds=4, now=4.1, signed=True)
    out, inn = doc["directions"]
    assert out["loss"] == 0 and inn["loss"] == 0 and inn["received"] == 20 and doc["exit_code"] == 0


def test_peer_stops_hearing_us_is_blocked_out():
    st = ex.State(interval_s=0.2)
    for i in range(1, 31):
        t = i * 0.2
        st.on_send(i, t)
        heard = min(i, 10)  # from packet 11 on, ours no longer arrive
        _feed(st, t + 0.005, i, echo=heard, rcvd=heard, first=1)
    assert ex.assess(st, 6.1)["verdict"] == ex.BLOCKED_OUT


def test_peer_goes_silent_is_blocked_in_and_bye_is_not():
    st = ex.State(interval_s=0.2)
    for i in range(1, 11):
        st.on_send(i, i * 0.2)
        _feed(st, i * 0.2 + 0.005, i, echo=i, rcvd=i, first=1)
    for i in range(11, 31):
        st.on_send(i, i * 0.2)
    assert ex.assess(st, 6.1)["verdict"] == ex.BLOCKED_IN
    _feed(st, 6.0, 11, echo=30, rcvd=30, first=1, bye=True)  # it had only ended
    assert ex.assess(st, 6.1)["verdict"] == ex.PATH_OK


def test_packets_that_do_not_verify_are_key_mismatch():
    st = ex.State(interval_s=0.2)
    for i in range(1, 11):
        st.on_send(i, i * 0.2)
        st.on_bad("wrong-key", i * 0.2)
    assert ex.assess(st, 2.1)["verdict"] == ex.KEY_MISMATCH


def test_nothing_at_all_is_no_answer():
    st = ex.State(interval_s=0.2)
    for i in range(1, 11):
        st.on_send(i, i * 0.2)
    assert ex.assess(st, 2.1)["verdict"] == ex.NO_ANSWER


@pytest.mark.parametrize("peer, port, interval", [
    ("node02", None, 200), ("224.0.0.1", None, 200), ("255.255.255.255", None, 200), ("0.0.0.0", None, 200),
    ("10.0.0.2", 70000, 200), ("10.0.0.2", None, 10), ("fe80::1", None, 200)])
def test_options_refused(peer, port, interval):
    with pytest.raises(UsageError):
        ex.check_options(peer, port, interval, 5)


def test_default_port_is_not_heartbeats():
    assert ex.DEFAULT_PORT != 694
    assert ex.check_options("10.0.0.2", None, 50, 5) == "10.0.0.2"
