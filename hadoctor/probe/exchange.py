"""``hadoctor probe exchange``: two probes, one per node, test the heartbeat path between them.

Each probe sends a small signed keepalive-shaped message to ``--peer`` every ``--interval`` ms and
answers nothing else. The messages are shaped like heartbeat's (classic encoding, signed with the
active authkeys entry, docs/heartbeat/wire.md#auth-bytes) so they cross the same firewalls and prove
the same key, but they can never be taken for a cluster node's:

* ``t=hadoctor-probe`` (not ``status``): heartbeat ignores or rejects the type;
* ``src=hadoctor-probe-<hostname>``: never a node name, so no node's sequence numbers, generation
  or deadtime are touched (docs/heartbeat/wire.md#receiver-rules).

Every message carries what the sender knows of the other direction: ``echo`` (the last sequence
number received from the peer) with ``held`` (µs between receiving it and this send), ``rcvd``,
``first`` and ``bad`` (how many of the peer's packets arrived, the first one, how many failed
verification) and the sender's own round-trip percentiles. So each side reports both directions:
sent, received, loss and round trip, and a verdict: path OK, blocked one way, key mismatch, nobody
answering.

Safety: the probe binds its port without SO_REUSEADDR/SO_REUSEPORT, so it never shares a socket
heartbeat holds; when the port is held here it refuses (unless ``--force``, which then sends from
an ephemeral port). It sends only to the one unicast ``--peer`` address, at most every 50 ms.
"""

from __future__ import annotations

import errno
import ipaddress
import secrets as _secrets
import select
import socket
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from hadoctor.errors import InputError, UsageError
from hadoctor.wire.codec import Message, WireDecodeError, decode, encode_classic

PROBE_TYPE = "hadoctor-probe"
SRC_PREFIX = "hadoctor-probe-"
DEFAULT_PORT = 19694          # not heartbeat's 694: a probe must not land in a running heartbeat
HEARTBEAT_PORT = 694
MIN_INTERVAL_MS = 50
SILENT_INTERVALS = 5          # this many intervals without news = the direction is blocked
SCHEMA = "hadoctor-exchange/1"

# verdict codes
PATH_OK = "path-ok"
BLOCKED_OUT = "blocked-out"
BLOCKED_IN = "blocked-in"
BOTH_BLOCKED = "both-blocked"
KEY_MISMATCH = "key-mismatch"
NO_ANSWER = "no-answer"


def probe_source(hostname: Optional[str] = None) -> str:
    """``src`` of our messages: ``hadoctor-probe-<hostname>``, never a node's own name.

    >>> probe_source("Node01")
    'hadoctor-probe-node01'
    """
    return SRC_PREFIX + (hostname or socket.gethostname()).lower()


def probe_message(*, src: str, seq: int, ts: int, run: int, echo: int = 0, held_us: int = 0, rcvd: int = 0,
                  first: int = 0, bad: int = 0, rtt50_us: Optional[int] = None, rtt99_us: Optional[int] = None,
                  bye: bool = False) -> Message:
    """A probe message, unsigned: keepalive-shaped fields (``t``, ``src``, ``seq``, ``hg``, ``ts``, hex like
    heartbeat's), then the echo fields. ``t`` is never ``status`` and ``src`` always starts ``hadoctor-probe-``."""
    if not src.startswith(SRC_PREFIX):
        raise ValueError("a probe message's src must start with hadoctor-probe- (never impersonate a node)")
    m = Message().add("t", PROBE_TYPE).add("src", src).add("seq", f"{seq:x}").add("hg", f"{run:x}")
    m.add("ts", f"{ts:x}").add("echo", f"{echo:x}").add("held", str(held_us)).add("rcvd", str(rcvd))
    m.add("first", f"{first:x}").add("bad", str(bad))
    if rtt50_us is not None and rtt99_us is not None:
        m.add("rtt50", str(rtt50_us)).add("rtt99", str(rtt99_us))
    if bye:
        m.add("bye", "1")
    return m


def _int(m: Message, name: str, base: int = 10) -> Optional[int]:
    v = m.get(name)
    try:
        return int(v, base) if v is not None else None
    except ValueError:
        return None


def percentile(values: List[float], q: float) -> Optional[float]:
    """Nearest-rank percentile.

    >>> percentile([1, 2, 3, 4], 50), percentile([1, 2, 3, 4], 99), percentile([], 50)
    (2, 4, None)
    """
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-q * len(s) // 100)) - 1))
    return s[k]


@dataclass
class State:
    """Everything one probe knows, in monotonic seconds (``now`` of the caller)."""

    interval_s: float
    started: float = 0.0
    sent: int = 0
    sent_at: Dict[int, float] = field(default_factory=dict)
    rtts_ms: List[float] = field(default_factory=list)
    last_echo: int = 0
    # the peer's packets, as they arrive here
    in_ok: int = 0
    in_bad: int = 0
    in_other: int = 0           # datagrams from the peer that are no probe message (heartbeat? garbage)
    in_first: Optional[int] = None
    in_last: Optional[int] = None
    in_run: Optional[int] = None
    last_in_ok: Optional[float] = None
    last_in_any: Optional[float] = None
    refused: int = 0            # ICMP port unreachable: nothing listens at the peer's port
    bad_results: Dict[str, int] = field(default_factory=dict)
    # what the peer last told us about our packets
    peer_rcvd: Optional[int] = None
    peer_first: Optional[int] = None
    peer_echo: Optional[int] = None
    peer_bad: int = 0
    peer_rtt50_ms: Optional[float] = None
    peer_rtt99_ms: Optional[float] = None
    peer_bye: bool = False
    peer_rcvd_changed: Optional[float] = None   # when peer_rcvd last grew
    sent_when_peer_rcvd_changed: int = 0
    sent_at_last_report: int = 0                # how many we had sent when the peer's last report came
    pending_echo: Optional[int] = None
    pending_echo_at: Optional[float] = None

    def on_send(self, seq: int, now: float) -> None:
        self.sent = seq
        self.sent_at[seq] = now
        if len(self.sent_at) > 4096:
            for old in sorted(self.sent_at)[:1024]:
                del self.sent_at[old]

    def on_peer_message(self, m: Message, now: float) -> None:
        seq = _int(m, "seq", 16)
        run = _int(m, "hg", 16)
        if seq is None:
            self.in_other += 1
            return
        if run != self.in_run:      # first packet, or the peer probe restarted
            self.in_run, self.in_first, self.in_last, self.in_ok = run, seq, None, 0
        self.in_ok += 1
        self.in_last = seq if self.in_last is None else max(self.in_last, seq)
        self.last_in_ok = self.last_in_any = now
        self.pending_echo, self.pending_echo_at = seq, now
        echo, held = _int(m, "echo", 16), _int(m, "held")
        if echo and echo > self.last_echo and echo in self.sent_at:
            self.last_echo = echo
            rtt = (now - self.sent_at[echo]) * 1000 - (held or 0) / 1000
            self.rtts_ms.append(max(rtt, 0.0))
        rcvd = _int(m, "rcvd")
        if rcvd is not None and (self.peer_rcvd is None or rcvd > self.peer_rcvd):
            self.peer_rcvd_changed = now
            self.sent_when_peer_rcvd_changed = self.sent
        if rcvd is not None:
            self.peer_rcvd = rcvd
        self.sent_at_last_report = self.sent
        self.peer_first, self.peer_echo = _int(m, "first", 16), echo
        self.peer_bad = _int(m, "bad") or 0
        r50, r99 = _int(m, "rtt50"), _int(m, "rtt99")
        if r50 is not None and r99 is not None:
            self.peer_rtt50_ms, self.peer_rtt99_ms = r50 / 1000, r99 / 1000
        if m.get("bye") == "1":
            self.peer_bye = True

    def on_bad(self, result: str, now: float) -> None:
        self.in_bad += 1
        self.last_in_any = now
        self.bad_results[result] = self.bad_results.get(result, 0) + 1


def _loss(received: Optional[int], first: Optional[int], last: Optional[int]) -> Optional[float]:
    if not received or not first or last is None or last < first:
        return None
    expected = last - first + 1
    return round(max(0.0, 1 - received / expected), 4)


def assess(st: State, now: float) -> dict:
    """Per-direction states and the verdict, from one probe's knowledge.

    ``out`` (local→peer) is judged from the peer's reports, ``in`` (peer→local) from arrivals.
    A direction is ``blocked`` when it worked and then stayed silent for SILENT_INTERVALS
    intervals, or never worked while the other direction shows the peer is there.
    """
    silent = max(SILENT_INTERVALS * st.interval_s, 0.5)
    # in: peer → local
    if st.in_ok:
        in_state = "ok" if st.peer_bye or now - st.last_in_ok <= silent else "blocked"
    elif st.in_bad:
        in_state = "unverified"
    else:
        in_state = "never"
    # out: local → peer, from what the peer reports
    if st.peer_rcvd is None:
        out_state = "unknown"
    elif st.peer_rcvd == 0:
        out_state = "unverified" if st.peer_bad else (
            "blocked" if st.sent_at_last_report * st.interval_s >= silent else "unknown")
    else:
        # judged up to the peer's last report (it may have ended, or gone silent, since)
        stalled = st.sent_at_last_report - st.sent_when_peer_rcvd_changed
        if stalled * st.interval_s >= silent:
            out_state = "blocked"
        else:
            out_state = "unknown" if in_state == "blocked" else "ok"
    return {"in": in_state, "out": out_state, "verdict": verdict(in_state, out_state)}


def verdict(in_state: str, out_state: str) -> str:
    """The verdict code for the two direction states (``in`` = peer→local, ``out`` = local→peer).

    >>> verdict("ok", "ok"), verdict("ok", "blocked"), verdict("blocked", "unknown")
    ('path-ok', 'blocked-out', 'blocked-in')
    >>> verdict("unverified", "unknown"), verdict("never", "unknown")
    ('key-mismatch', 'no-answer')
    """
    if in_state == "unverified" or out_state == "unverified":
        return KEY_MISMATCH
    if in_state == "ok":
        return BLOCKED_OUT if out_state == "blocked" else PATH_OK
    if in_state == "blocked":
        return BOTH_BLOCKED if out_state == "blocked" else BLOCKED_IN
    return NO_ANSWER


def verdict_text(code: str, local: str, peer: str) -> str:
    return {
        PATH_OK: f"path OK both ways ({local} ↔ {peer})",
        BLOCKED_OUT: f"blocked {local}→{peer}: the peer hears nothing more from us, we still hear it",
        BLOCKED_IN: f"blocked {peer}→{local}: the peer went silent here after it had been heard "
                    f"({local}→{peer} cannot be judged from this side; the peer's probe says)",
        BOTH_BLOCKED: f"both blocked: {local}→{peer} stopped first (the peer said so), then {peer}→{local}",
        KEY_MISMATCH: f"key mismatch: packets arrive between {local} and {peer} but do not verify with the "
                      f"authkeys (different key, method or index on the two sides)",
        NO_ANSWER: f"nobody answering at {peer}: no probe runs there on this port, or both ways are blocked, "
                   f"or {peer}→{local} is blocked",
    }[code]


@dataclass
class ExchangeSettings:
    """What one probe exchange does: validated peer, port, pace and duration."""

    peer: str
    port: int
    interval_ms: int
    seconds: float
    netns: Optional[str] = None
    force: bool = False
    port_given: bool = False


def check_options(peer: str, port: Optional[int], interval_ms: int, seconds: float) -> str:
    """Validate; return the peer address. UsageError for anything that could send where it must not."""
    try:
        addr = ipaddress.ip_address(peer)
    except ValueError:
        raise UsageError(f"--peer {peer!r} is not an IP address", "name the peer node's address, e.g. 10.0.0.2") from None
    if addr.version != 4:
        raise UsageError("--peer must be an IPv4 address (heartbeat's UDP media are IPv4)")
    if addr.is_multicast or addr.is_unspecified or str(addr) == "255.255.255.255":
        raise UsageError(f"--peer {peer} is not one host", "the probe sends only to one unicast address")
    if port is not None and not 1 <= port <= 65535:
        raise UsageError(f"--port {port} is not a UDP port")
    if interval_ms < MIN_INTERVAL_MS:
        raise UsageError(f"--interval {interval_ms} ms is too fast", f"the minimum is {MIN_INTERVAL_MS} ms")
    if not 0 < seconds <= 3600:
        raise UsageError("--seconds must be between 0 and 3600")
    return str(addr)


def _held_error(port: int) -> UsageError:
    return UsageError(
        f"UDP port {port} is held on this host (a running heartbeat?); the probe will not share it",
        f"a probe on heartbeat's port could take a share of its heartbeats (late or lost heartbeats, a "
        f"failover) and heartbeat would receive and log our packets. Use another --port on both sides "
        f"(default {DEFAULT_PORT}), or watch heartbeat's own traffic with `hadoctor probe listen`; "
        f"--force sends anyway, from an ephemeral port")


def open_socket(opts: ExchangeSettings) -> socket.socket:
    from hadoctor.probe.netns import run_in_netns

    def make() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            try:
                sock.bind(("", opts.port))   # no SO_REUSEADDR/SO_REUSEPORT: fails when anyone holds it
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or not opts.force:
                    raise
                sock.bind(("", 0))
            sock.connect((opts.peer, opts.port))  # the kernel then drops datagrams from anyone else
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return sock

    try:
        return run_in_netns(opts.netns, make)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise _held_error(opts.port) from None
        if exc.errno in (errno.ENETUNREACH, errno.EADDRNOTAVAIL):
            raise UsageError(f"no route to {opts.peer} from here", "check --peer (and --netns)") from None
        raise InputError(f"udp:{opts.port}", exc.strerror or str(exc)) from None


def run_exchange(opts: ExchangeSettings, authkeys=None, *, hostname: Optional[str] = None,
                 clock=time.monotonic) -> dict:
    """Run the exchange for ``opts.seconds``; return the report (see :func:`report`)."""
    if not opts.port_given and opts.port == HEARTBEAT_PORT:
        raise UsageError("the default port must not be heartbeat's")
    sock = open_socket(opts)
    src = probe_source(hostname)
    run = int.from_bytes(_secrets.token_bytes(4), "big") | 1
    interval = opts.interval_ms / 1000
    st = State(interval_s=interval)
    local = sock.getsockname()[0]
    start = clock()
    st.started = start
    deadline = start + opts.seconds
    next_send = start
    seq = 0
    with sock:
        while True:
            now = clock()
            if now >= next_send:
                last = now >= deadline
                seq += 1
                _send(sock, st, src=src, seq=seq, run=run, now=now, authkeys=authkeys, bye=last)
                next_send = max(next_send + interval, now + MIN_INTERVAL_MS / 1000 * 0.9)
                if last:
                    break
            timeout = max(0.0, min(next_send, deadline) - clock())
            readable, _, _ = select.select([sock], [], [], timeout)
            if readable:
                _receive(sock, st, authkeys, clock())
        # a short drain: the peer's last reports about our last packets
        end = clock() + min(interval, 0.3)
        while clock() < end:
            readable, _, _ = select.select([sock], [], [], max(0.0, end - clock()))
            if readable:
                _receive(sock, st, authkeys, clock())
    return report(st, local=local, peer=opts.peer, port=opts.port, interval_ms=opts.interval_ms,
                  seconds=opts.seconds, now=clock(), signed=authkeys is not None)


def _send(sock: socket.socket, st: State, *, src: str, seq: int, run: int, now: float, authkeys, bye: bool) -> None:
    held_us = 0
    echo = st.pending_echo or 0
    if st.pending_echo is not None and st.pending_echo_at is not None:
        held_us = int((now - st.pending_echo_at) * 1e6)
    r50, r99 = percentile(st.rtts_ms, 50), percentile(st.rtts_ms, 99)
    m = probe_message(src=src, seq=seq, ts=int(time.time()), run=run, echo=echo, held_us=held_us,
                      rcvd=st.in_ok, first=st.in_first or 0, bad=st.in_bad,
                      rtt50_us=None if r50 is None else int(r50 * 1000),
                      rtt99_us=None if r99 is None else int(r99 * 1000), bye=bye)
    data = encode_classic(m, authkeys) if authkeys is not None else encode_classic(m)
    st.on_send(seq, now)
    try:
        sock.send(data)
    except OSError as exc:
        if exc.errno == errno.ECONNREFUSED:
            st.refused += 1
        elif exc.errno not in (errno.EAGAIN, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EPERM):
            raise


def _receive(sock: socket.socket, st: State, authkeys, now: float) -> None:
    from hadoctor.wire.auth import verify

    for _ in range(64):
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno == errno.ECONNREFUSED:
                st.refused += 1
                continue
            raise
        try:
            decoded = decode(data)
        except WireDecodeError:
            st.in_other += 1
            continue
        m = decoded.message
        if m.get("t") != PROBE_TYPE or not (m.get("src") or "").startswith(SRC_PREFIX):
            st.in_other += 1
            continue
        if authkeys is not None:
            v = verify(decoded, authkeys)
            if not v.ok:
                st.on_bad(v.result, now)
                continue
        st.on_peer_message(m, now)


def report(st: State, *, local: str, peer: str, port: int, interval_ms: int, seconds: float, now: float,
           signed: bool) -> dict:
    a = assess(st, now)
    code = a["verdict"]

    def r(x: Optional[float]) -> Optional[float]:
        return None if x is None else round(x, 3)

    out = {"from": local, "to": peer, "state": a["out"], "sent": st.sent, "received": st.peer_rcvd,
           "failed_auth": st.peer_bad,
           "loss": _loss(st.peer_rcvd, st.peer_first, st.peer_echo),
           "rtt_ms": {"p50": r(percentile(st.rtts_ms, 50)), "p99": r(percentile(st.rtts_ms, 99)),
                      "samples": len(st.rtts_ms)}}
    inn = {"from": peer, "to": local, "state": a["in"], "sent": st.in_last, "received": st.in_ok,
           "failed_auth": st.in_bad, "failed_auth_results": dict(st.bad_results),
           "loss": _loss(st.in_ok, st.in_first, st.in_last),
           "rtt_ms": {"p50": r(st.peer_rtt50_ms), "p99": r(st.peer_rtt99_ms)}}
    notes = []
    if st.refused:
        notes.append(f"{st.refused} ICMP port unreachable: nothing listens on {peer} UDP {port}")
    if st.in_other:
        notes.append(f"{st.in_other} datagram(s) from the peer were no probe message")
    if not signed:
        notes.append("unsigned: no authkeys, so keys were not compared")
    return {"schema": SCHEMA, "local": local, "peer": peer, "port": port, "interval_ms": interval_ms,
            "seconds": seconds, "directions": [out, inn],
            "verdict": {"code": code, "text": verdict_text(code, local, peer)}, "notes": notes,
            "exit_code": 0 if code == PATH_OK else 1}
