"""The record of one ``fix --authkeys`` run that every step shares: the options, where progress goes,
the report being filled, the nodes as read, the frozen :class:`~hadoctor.fix.plan.Plan`, and the few
times the steps pace themselves by (the last reload of each node, the switch's release)."""

from __future__ import annotations

import os
import time
from typing import Dict, Optional, Sequence, Tuple

from hadoctor.fix.inspect import NodeState, keepalive_s
from hadoctor.fix.model import FixOptions, FixProgress, RotationReport
from hadoctor.fix.plan import Plan

#: a run whose journal says one of these did not end: a re-run recovers it
ACTIVE_STATES = ("staging", "staged", "switching", "switched", "reverted", "finalizing", "rolling-back")
#: seconds for one node script that writes (backup, stage, final file)
WRITE_TIMEOUT = 30.0


class Run:
    """One run's shared record (see the module docstring); the steps are plain functions of it in
    :mod:`~hadoctor.fix.rotate`, :mod:`~hadoctor.fix.switch`, :mod:`~hadoctor.fix.verify`,
    :mod:`~hadoctor.fix.finish` and :mod:`~hadoctor.fix.recovery`."""

    def __init__(self, opts: FixOptions, progress: FixProgress) -> None:
        self.opts = opts
        self.progress = progress
        self.report = RotationReport()
        self.t0 = time.monotonic()
        self.last_reload: Dict[str, float] = {}
        self.local: Optional[str] = None            # this host's node name, when it is a member
        self.infos: Dict[str, NodeState] = {}
        self.plan: Optional[Plan] = None
        self.watch = None                           # the WireWatch capturing the switch, when possible
        self.release_wall: Optional[float] = None   # when the switch was released (wall clock)
        self.switch_done_wall: Optional[float] = None
        self.watchdogs_until = 0.0                  # monotonic: the confirmed nodes' watchdogs are done

    def wait_watchdogs(self) -> None:
        """A confirmed node's watchdog may still revert it (a peer back on the old key): nothing reads the
        outcome of the switch, or writes again, before it is done."""
        time.sleep(max(0.0, self.watchdogs_until - time.monotonic()))

    def step(self, name: str, t: float, **data) -> None:
        item = {"step": name, "ms": round((time.monotonic() - t) * 1000.0, 1)}
        item.update(data)
        self.report.steps.append(item)
        self.progress.step(f"{name}: {item['ms']:.0f} ms" + (f" {data}" if data else ""))

    def capture_possible(self, local: Optional[str]) -> Tuple[bool, str]:
        if self.opts.capture is False:
            return False, "capture disabled"
        if (self.opts.root or "/").rstrip("/") and self.opts.capture is None:
            return False, "--root given: the files are not this host's running heartbeat"
        if local is None:
            return False, "this host is not a cluster member: its packet socket would not see the heartbeats"
        if os.geteuid() != 0:
            return False, "not root (a packet socket needs root)"
        return True, ""

    def keepalive_max(self) -> float:
        return max((keepalive_s(i) for i in self.infos.values()), default=2.0)

    def settle(self, names: Sequence[str]) -> None:
        """Wait until heartbeat has surely parsed the last change on ``names``. Its master only flags a
        reload and parses authkeys at its next signing or verification (within a keepalive), recording the
        file's mtime *then*: a second change before that parse would be taken in silently and the
        "unchanged" second reload would not re-signal the children (heartbeat.c check_auth_change,
        hb_signal.c). So successive writes on a node are at least keepalive + 0.5 s apart."""
        gap = self.keepalive_max() + 0.5
        last = max((self.last_reload.get(n, 0.0) for n in names), default=0.0)
        wait = last + gap - time.time()
        if wait > 0:
            time.sleep(min(wait, 10.0))

    def seed_last_reload(self) -> None:
        """A file written moments ago (an earlier run) counts as reloaded then (node clock)."""
        for name, info in self.infos.items():
            try:
                node_now = int(info.out.get("now"))
            except (TypeError, ValueError):
                continue
            if info.mtime is not None:
                self.last_reload[name] = time.time() - max(0, node_now - info.mtime)

    def journal(self, node: str, state: str, backup: Optional[str] = None) -> str:
        return self.plan.journal(node, state, backup or self.infos[node].backup or "@BACKUP@")

    def done(self, o: RotationReport) -> RotationReport:
        o.duration_s = round(time.monotonic() - self.t0, 2)
        return o
