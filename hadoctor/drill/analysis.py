"""Samples -> what clients saw: outages per service, the VIP's moves, and verdicts.

Times are seconds after the phase's action (the ``hb_standby``, the kill, the cut...). An outage
runs from the first failed probe to the first answered one after it (100 ms resolution); a stream
that never answers again is an outage to the end of the phase, ``recovered`` False.

>>> from hadoctor.drill.observer import Sample
>>> s = [Sample(t / 10, ok) for t, ok in enumerate([1, 1, 1, 0, 0, 0, 1, 1])]
>>> o = service_outage("tcp/80", s, 0.0, 0.8)
>>> (o.outage_s, o.down_at, o.back_at, o.recovered)
(0.3, 0.3, 0.6, True)
>>> service_outage("icmp", s[:5], 0.0, 0.5).recovered
False
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Set, Tuple

from hadoctor.drill.observer import Announcement, Sample, Streams

#: a planned move (hb_standby/hb_takeover) normally completes within this; beyond it, say so
PLANNED_MOVE_S = 30.0
#: time a service may take to answer after the VIP came up before we call it late
SERVICE_GRACE_S = 5.0


@dataclass
class Verdict:
    severity: str      # error | warning | info
    text: str


@dataclass
class ServiceOutage:
    stream: str
    answered_before: bool
    outage_s: float = 0.0
    longest_s: float = 0.0
    down_at: Optional[float] = None
    back_at: Optional[float] = None
    recovered: bool = True
    failures: Dict[str, int] = field(default_factory=dict)   # detail -> count ("refused", "no answer")


@dataclass
class VipMoves:
    before: List[str]                  # holders (node names) before the action
    after: List[str]                   # holders at the end of the phase
    old_gone_at: Optional[float]       # the first tick the old holder no longer answered
    new_at: Optional[float]            # the first tick another node answered
    two_nodes_s: float                 # ticks with two or more holders
    no_node_s: float                   # ticks with no holder
    announcements: List[Tuple[float, str]] = field(default_factory=list)   # (time, node) gratuitous ARPs


@dataclass
class Phase:
    name: str                          # "drill" or "restore"
    action: str                        # what was done, for people
    started: float                     # monotonic time of the action
    ended: float
    vip: Optional[VipMoves]
    services: List[ServiceOutage]
    verdicts: List[Verdict] = field(default_factory=list)
    action_epoch: float = 0.0          # wall clock of the action (to line up with the nodes' logs)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("started")
        d.pop("ended")
        d["duration_s"] = round(self.ended - self.started, 3)
        return d


def _window(samples: Sequence[Sample], start: float, end: float) -> List[Sample]:
    return [s for s in samples if start <= s.t < end]


def service_outage(stream: str, samples: Sequence[Sample], start: float, end: float,
                   baseline: Sequence[Sample] = ()) -> ServiceOutage:
    """The outage of one stream between ``start`` and ``end`` (times relative to ``start``)."""
    before = list(baseline) or [s for s in samples if s.t < start]
    answered_before = any(s.ok for s in before[-10:]) if before else True
    out = ServiceOutage(stream, answered_before)
    down: Optional[float] = None
    for s in _window(samples, start, end):
        if not s.ok:
            out.failures[s.detail or "no answer"] = out.failures.get(s.detail or "no answer", 0) + 1
            if down is None:
                down = s.t
                if out.down_at is None:
                    out.down_at = round(s.t - start, 3)
        elif down is not None:
            length = s.t - down
            out.outage_s += length
            out.longest_s = max(out.longest_s, length)
            out.back_at = round(s.t - start, 3)
            down = None
    if down is not None:
        length = end - down
        out.outage_s += length
        out.longest_s = max(out.longest_s, length)
        out.recovered = False
        out.back_at = None
    out.outage_s = round(out.outage_s, 3)
    out.longest_s = round(out.longest_s, 3)
    return out


def _names(macs: Sequence[str], owners: Mapping[str, str]) -> List[str]:
    return sorted({owners.get(m, m) for m in macs})


def vip_moves(samples: Sequence[Sample], announcements: Sequence[Announcement], start: float, end: float,
              owners: Mapping[str, str], interval: float) -> Optional[VipMoves]:
    """How the VIP's holders changed from ``start`` to ``end``. ``owners`` maps MAC (or ``local``)
    to node name."""
    before = [s for s in samples if s.t < start][-5:]
    during = _window(samples, start, end)
    if not during:
        return None
    old: Set[str] = set()
    for s in before:
        old.update(s.macs)
    moves = VipMoves(_names(sorted(old), owners), _names(during[-1].macs, owners), None, None, 0.0, 0.0)
    for s in during:
        holders = set(s.macs)
        if moves.old_gone_at is None and old and not (holders & old):
            moves.old_gone_at = round(s.t - start, 3)
        if moves.new_at is None and holders - old:
            moves.new_at = round(s.t - start, 3)
        if len(holders) >= 2:
            moves.two_nodes_s += interval
        elif not holders:
            moves.no_node_s += interval
    moves.two_nodes_s = round(moves.two_nodes_s, 3)
    moves.no_node_s = round(moves.no_node_s, 3)
    moves.announcements = [(round(a.t - start, 3), owners.get(a.mac, a.mac)) for a in announcements
                           if start <= a.t < end]
    return moves


def analyse_phase(name: str, action: str, streams: Streams, start: float, end: float,
                  owners: Mapping[str, str], interval: float, baseline_end: Optional[float] = None,
                  epoch: float = 0.0) -> Phase:
    services = []
    for stream, samples in streams.samples.items():
        if stream == "arp":
            continue
        base = [s for s in samples if s.t < (baseline_end if baseline_end is not None else start)]
        services.append(service_outage(stream, samples, start, end, base[-10:]))
    moves = vip_moves(streams.samples.get("arp", []), streams.announcements, start, end, owners, interval)
    return Phase(name, action, start, end, moves, services, action_epoch=round(epoch, 3))


def judge_restore(phase: Phase, owner: str) -> None:
    """Putting the cluster back is measured too: its cost to clients is part of the drill's price
    (healing a partition, for one, restarts heartbeat on both nodes and frees the VIP for a while)."""
    v = phase.verdicts
    m = phase.vip
    if m is not None:
        if m.after == [owner]:
            v.append(Verdict("info", f"{owner} alone held the VIP again within {phase.ended - phase.started:.1f} s"))
        if m.no_node_s > SERVICE_GRACE_S:
            v.append(Verdict("warning", f"no node held the VIP for {m.no_node_s:.1f} s while the cluster was put "
                                        "back (after a partition heartbeat restarts on both nodes and gives "
                                        "every resource up: see the logs)"))
        elif m.no_node_s:
            v.append(Verdict("info", f"no node answered ARP for the VIP for {m.no_node_s:.1f} s"))
    for s in phase.services:
        if s.answered_before and s.outage_s:
            v.append(Verdict("info", f"{s.stream}: clients saw {s.outage_s:.1f} s without an answer"))


def judge(phase: Phase, kind: str, deadtime_s: float, keepalive_s: float) -> None:
    """Verdicts an experienced admin would give on the drill's own phase."""
    v = phase.verdicts
    planned = kind in ("switchover", "failback")
    m = phase.vip
    if m is None:
        v.append(Verdict("warning", "the VIP's owner was not observed (no ARP from this host: give --iface, "
                                    "or run the drill from a host on the VIP's segment)"))
    else:
        if m.new_at is None:
            v.append(Verdict("error", f"no other node took the VIP within {phase.ended - phase.started:.1f} s "
                                      f"(holders at the end: {', '.join(m.after) or 'none'})"))
        elif planned:
            word = "expected for a planned move" if m.new_at <= PLANNED_MOVE_S else "slow for a planned move"
            v.append(Verdict("info" if m.new_at <= PLANNED_MOVE_S else "warning",
                             f"takeover {m.new_at:.1f} s ({word}: no deadtime involved)"))
        else:
            late = deadtime_s + 2 * keepalive_s + 10
            if m.new_at < deadtime_s - 1:
                v.append(Verdict("warning", f"takeover {m.new_at:.1f} s with deadtime {deadtime_s:g} s: sooner "
                                            "than deadtime (was the node already declared dead?)"))
            elif m.new_at <= late:
                v.append(Verdict("info", f"takeover {m.new_at:.1f} s with deadtime {deadtime_s:g} s: expected"))
            else:
                v.append(Verdict("warning", f"takeover {m.new_at:.1f} s with deadtime {deadtime_s:g} s: "
                                            f"{m.new_at - deadtime_s:.1f} s beyond deadtime (slow resource start, "
                                            "or initdead/deadtime longer than ha.cf says?)"))
        if m.two_nodes_s > 0:
            if planned:
                v.append(Verdict("error", f"the VIP answered from two nodes for {m.two_nodes_s:.1f} s during a "
                                          "planned move (the old node kept it: its IPaddr stop failed?)"))
            else:
                v.append(Verdict("warning", f"the VIP answered from two nodes for {m.two_nodes_s:.1f} s: the old "
                                            "node kept it while the other took over (heartbeat cannot take a VIP "
                                            "away from a node it cannot reach; STONITH would)"))
        if m.no_node_s > 0:
            v.append(Verdict("info", f"no node answered ARP for the VIP for {m.no_node_s:.1f} s"))
    for s in phase.services:
        if not s.answered_before:
            v.append(Verdict("warning", f"{s.stream} did not answer on the VIP before this phase: its outage "
                                        "is not meaningful"))
            continue
        if not s.recovered:
            v.append(Verdict("error", f"{s.stream} did not answer on the VIP again within "
                                      f"{phase.ended - phase.started:.1f} s"
                                      + (f" ({', '.join(f'{k}: {n}' for k, n in sorted(s.failures.items()))})"
                                         if s.failures else "")))
            continue
        if m is not None and m.new_at is not None and s.back_at is not None and \
                s.back_at - m.new_at > SERVICE_GRACE_S and s.stream != "icmp":
            v.append(Verdict("warning", f"{s.stream} did not answer on the VIP for {s.back_at - m.new_at:.1f} s "
                                        "after the VIP moved: the service started late, or it binds the node's own "
                                        "address instead of the VIP / 0.0.0.0"))
        if s.outage_s:
            v.append(Verdict("info", f"{s.stream}: clients saw {s.outage_s:.1f} s without an answer"
                                     + (f" (longest {s.longest_s:.1f} s)" if s.longest_s != s.outage_s else "")))
        else:
            v.append(Verdict("info", f"{s.stream}: no probe went unanswered"))


def client_spans(streams: Streams, owners: Mapping[str, str], to_epoch, interval: float
                 ) -> Dict[str, List[Tuple[float, float, str]]]:
    """Each stream as (start, end, state) spans in epoch seconds, equal neighbours merged: what a
    picture or a program needs (a few spans, not every 100 ms sample). ARP states name the holders
    (``node01``, ``two nodes: node01, node02``, ``none``); the others ``answered`` or why not."""
    out: Dict[str, List[Tuple[float, float, str]]] = {}
    for name, samples in streams.samples.items():
        spans: List[Tuple[float, float, str]] = []
        for s in samples:
            if name == "arp":
                holders = _names(s.macs, owners)
                state = ("none" if not holders else holders[0] if len(holders) == 1
                         else "two nodes: " + ", ".join(holders))
            else:
                state = "answered" if s.ok else (s.detail or "no answer")
            start = round(to_epoch(s.t), 3)
            end = round(to_epoch(s.t + interval), 3)
            if spans and spans[-1][2] == state and abs(spans[-1][1] - start) < interval * 1.5:
                spans[-1] = (spans[-1][0], end, state)
            else:
                spans.append((start, end, state))
        out[name] = spans
    return out
