"""Reading the nodes for ``fix --authkeys``: one read-only script per node (over ssh or here), its
output parsed into a :class:`NodeState` per node."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, List, Optional, Sequence, Tuple

from hadoctor.datums import AUTHKEYS_PATH, HACF_PATH
from hadoctor.errors import UsageError
from hadoctor.fix import nodescript
from hadoctor.fix.model import FixOptions, FixProgress, Refused
from hadoctor.fix.nodescript import Output, parse_output
from hadoctor.inputs import under_root
from hadoctor.parsers.hacf import DEFAULT_UDPPORT
from hadoctor.remote import Shell, host_plan

INSPECT_TIMEOUT = 30.0


@dataclass
class NodeState:
    """What the inspection script read on one node (and, later in a run, its backup and log offset)."""

    name: str
    shell: Shell
    out: Output
    authkeys: bytes = b""
    parsed: object = None
    mode: Optional[int] = None
    mtime: Optional[int] = None
    hacf: object = None
    journal: Optional[dict] = None
    backups: List[str] = field(default_factory=list)
    running: bool = False
    peers: Dict[str, str] = field(default_factory=dict)
    log_path: Optional[str] = None
    backup: Optional[str] = None       # this run's backup
    hb_pid: Optional[int] = None
    hb_started: Optional[float] = None     # the master's start (epoch, node clock)
    hacf_mtime: Optional[int] = None
    hacf_ctime: Optional[int] = None
    hacf_mtime_local: Optional[datetime] = None
    hacf_ctime_local: Optional[datetime] = None
    now_local: Optional[datetime] = None
    read_mark: Optional[Tuple[datetime, str]] = None   # last "read ha.cf" line of the master in its log
    running_params: Dict[str, str] = field(default_factory=dict)   # cl_status hbparameter, hacfcheck
    log_offset: Optional[int] = None   # log size just before the switch
    stage_log_offset: Optional[int] = None   # log size just before the staging reload

    @property
    def revert_pending_s(self) -> Optional[float]:
        """Seconds until the armed revert of an unconfirmed switch is due on this node (node clock;
        negative: overdue, its watchdog is gone), None when nothing is armed."""
        armed, now = self.out.get("armed") or "", self.out.get("now") or ""
        if not (armed.isdigit() and now.isdigit()):
            return None
        return float(int(armed) - int(now))

    @property
    def old_key(self):
        return self.parsed.active if self.parsed is not None else None


def shells_for(opts: FixOptions) -> Tuple[List[Shell], Optional[str]]:
    plan = host_plan(list(opts.nodes), opts.root)
    if not plan.nodes:
        raise UsageError(f"no nodes: {under_root(opts.root, HACF_PATH)} lists none and no --node was given",
                         "run this on a cluster node, or name every node with --node NAME")
    return plan.shells(opts.ssh), plan.local


def inspect(shells: Sequence[Shell], root: str, extra: Optional[Dict[str, List[str]]] = None) -> Dict[str, object]:
    from hadoctor.fix.session import run_all

    jobs = [(s, nodescript.inspect_script(root, (extra or {}).get(s.node, []))) for s in shells]
    results = run_all(jobs, INSPECT_TIMEOUT)
    return {s.node: r for s, r in zip(shells, results)}


def node_state(shell: Shell, out: Output, root: str) -> NodeState:
    from hadoctor.parsers.authkeys import parse_authkeys
    from hadoctor.parsers.hacf import parse_hacf

    info = NodeState(shell.node, shell, out)
    info.authkeys = out.files.get("authkeys", b"")
    stat = (out.get("ak_stat") or "").split()
    if len(stat) == 5:
        info.mode = int(stat[0], 8)
        info.mtime = int(stat[3])
    ak_path = under_root(root, AUTHKEYS_PATH)
    if "authkeys" in out.files:
        info.parsed = parse_authkeys(info.authkeys, ak_path, mode=info.mode)
    if "hacf" in out.files:
        info.hacf = parse_hacf(out.files["hacf"], under_root(root, HACF_PATH))
        for setting in (info.hacf.logfile, info.hacf.debugfile):
            if setting is not None and setting.value and str(setting.value).startswith("/"):
                info.log_path = under_root(root, str(setting.value))
                break
    if "journal" in out.files:
        try:
            info.journal = json.loads(out.files["journal"].decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            info.journal = {"state": "unreadable"}
    info.backups = out.all("backup")
    info.running = out.get("hbstatus_rc") == "0" or out.get("hb_alive") == "yes"
    _hacf_times(info, out)
    for line in out.all("nodestatus"):
        parts = line.split(None, 1)
        if parts:
            info.peers[parts[0].lower()] = parts[1].strip() if len(parts) > 1 else ""
    return info


def _hacf_times(info: NodeState, out: Output) -> None:
    """ha.cf's mtime/ctime and the heartbeat master's start, as the inspection reported them."""
    from hadoctor.fix import hacfcheck

    st = (out.get("hacf_stat") or "").split()
    if len(st) == 2 and all(x.isdigit() for x in st):
        info.hacf_mtime, info.hacf_ctime = int(st[0]), int(st[1])
    info.hacf_mtime_local = hacfcheck.local_time(out.get("hacf_mtime_local"))
    info.hacf_ctime_local = hacfcheck.local_time(out.get("hacf_ctime_local"))
    info.now_local = hacfcheck.local_time(out.get("now_local"))
    pid = out.get("hb_pid") or ""
    info.hb_pid = int(pid) if pid.isdigit() else None
    info.hb_started = hacfcheck.proc_start(out.get("hb_stat"), out.get("btime"), out.get("clk_tck"))
    if info.hb_started is None and out.get("hb_stat") is None:
        # no /proc/PID/stat (not Linux?): ps's lstart, in local time
        info.hb_started = hacfcheck.lstart_epoch(out.get("hb_lstart"),
                                                 hacfcheck.utc_offset_s(out.get("now"), out.get("now_local")))


def hacf_pending(info: NodeState) -> Tuple[Optional[bool], Optional[bool]]:
    """(ha.cf's mtime, its ctime) changed after the running heartbeat last read the file? (hacfcheck)"""
    from hadoctor.fix.hacfcheck import changed_after_read

    if info.hacf_mtime is None:
        return None, None
    read_at = info.read_mark[0] if info.read_mark else None
    by_mtime = changed_after_read(info.hacf_mtime, info.hb_started, info.hacf_mtime_local, read_at)
    by_ctime = None
    if info.hacf_ctime is not None:
        by_ctime = changed_after_read(info.hacf_ctime, info.hb_started, info.hacf_ctime_local, read_at)
    return by_mtime, by_ctime


def read_marks(infos: Dict[str, NodeState]) -> None:
    """For a node whose ha.cf looks newer than its heartbeat's start, look in its log for a later
    restart exec / reread (hacfcheck.READ_MARKS): one more read-only script, only for those nodes."""
    from hadoctor.fix import hacfcheck
    from hadoctor.fix.session import run_all

    todo = [i for i in infos.values()
            if i.running and i.log_path and i.hacf_mtime is not None and any(v is not False for v in hacf_pending(i))]
    if not todo:
        return
    jobs = [(i.shell, nodescript.read_marks_script(i.log_path, hacfcheck.READ_MARKS, hacfcheck.LOG_TAIL_BYTES))
            for i in todo]
    for info, r in zip(todo, run_all(jobs, INSPECT_TIMEOUT)):
        out = parse_output(r.stdout)
        if r.ok and "marks" in out.files:
            info.read_mark = hacfcheck.last_read_mark(out.files["marks"], info.log_path, info.hb_pid,
                                                      info.now_local)


def running_params(infos: Dict[str, NodeState], root: str) -> None:
    """What heartbeat read of ha.cf, asked only where ha.cf's mtime or ctime is not known to be older than
    that reading (a copy with ``cp -p`` keeps an old mtime but gets a new ctime): one more read-only
    script, only for those nodes."""
    from hadoctor.fix.hacfcheck import RUNNING_PARAMS
    from hadoctor.fix.session import run_all

    todo = [i for i in infos.values()
            if i.running and i.hacf_mtime is not None and any(v is not False for v in hacf_pending(i))]
    if not todo:
        return
    jobs = [(i.shell, nodescript.running_params_script(root, RUNNING_PARAMS)) for i in todo]
    for info, r in zip(todo, run_all(jobs, INSPECT_TIMEOUT)):
        out = parse_output(r.stdout)
        for line in out.all("hbparam") if r.ok else []:
            parts = line.split(None, 1)
            if parts:
                info.running_params[parts[0]] = parts[1].strip() if len(parts) > 1 else ""


def read_nodes(shells: Sequence[Shell], root: str, progress: FixProgress) -> Dict[str, NodeState]:
    results = inspect(shells, root)
    unreachable = []
    for s in shells:
        r = results[s.node]
        if not r.ok:
            unreachable.append(f"{s.node}: {r.reason}")
    if unreachable:
        raise Refused("cannot read every node, so nothing was changed: " + "; ".join(unreachable),
                      "make every node reachable (ssh NODE works without a password: BatchMode) and run again")
    infos = {s.node: node_state(s, parse_output(results[s.node].stdout), root) for s in shells}
    progress.step("read " + ", ".join(f"{n} ({results[n].where}, {results[n].duration_s * 1000:.0f} ms)"
                                      for n in infos))
    return infos


def ports(info: NodeState) -> List[int]:
    """The UDP ports the node's heartbeat uses (ha.cf's udpport and mcast ports; 694 by default)."""
    return info.hacf.ports() if info.hacf is not None else [DEFAULT_UDPPORT]


def keepalive_s(info: NodeState) -> float:
    try:
        return max(0.1, info.hacf.keepalive.value / 1000.0)
    except (AttributeError, TypeError):
        return 2.0
