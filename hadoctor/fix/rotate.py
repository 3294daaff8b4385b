"""``hadoctor fix --authkeys``: rotate heartbeat's cluster key without a failover (docs/fix-authkeys.md).

plan (read every node, refuse an unhealthy cluster) → confirm → stage (backup, old key still
active, new key listed) → switch (netstring: every node at once over held connections; classic:
node by node) → verify (wire + logs + cl_status) → final file (old key removed); any failure after
the first change rolls every node back to its backup. A journal on every node lets a re-run after
a crash complete the rotation (some node already signs with the new key) or roll it back.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Dict, List, Optional, Sequence, Tuple

from hadoctor.errors import HadoctorError, UsageError
from hadoctor.fix import keyfile, nodescript
from hadoctor.fix.keyfile import KeyFileError, NewKey
from hadoctor.fix.nodescript import Output, parse_output
from hadoctor.inputs import under_root
from hadoctor.parsers.authkeys import BAD_MODE
from hadoctor.remote import Shell, SshOptions, host_plan
from hadoctor.secrets import Secret, fingerprint

EXIT_ROTATED = 0
EXIT_ROLLED_BACK = 1
EXIT_REFUSED = 2
EXIT_ATTENTION = 4
PAUSE_ENV = "HADOCTOR_FIX_PAUSE_AT"
PAUSE_POINTS = ("planned", "stage-partial", "staged", "switch-ready", "switch-partial", "switched",
                "verified", "final-partial")
ACTIVE_STATES = ("staging", "staged", "switching", "switched", "finalizing")
INSPECT_TIMEOUT = 30.0
WRITE_TIMEOUT = 30.0


class Refused(HadoctorError):
    """Stopped before changing anything."""

    exit_code = EXIT_REFUSED


class Attention(HadoctorError):
    """A state hadoctor will not touch automatically; a person must look (exit 4)."""

    exit_code = EXIT_ATTENTION


@dataclass
class FixOptions:
    nodes: Sequence[str] = ()
    dry_run: bool = False
    yes: bool = False
    force: bool = False
    ssh: SshOptions = SshOptions()
    root: str = "/"
    fmt: str = "text"
    capture: Optional[bool] = None     # None: when root and this host is a member


@dataclass
class NodeInfo:
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
    log_offset: Optional[int] = None   # log size just before the switch

    @property
    def old_key(self):
        return self.parsed.active if self.parsed is not None else None


class Progress:
    """Notes for people on stderr (rich); the machine report alone goes to stdout."""

    def __init__(self, quiet: bool = False) -> None:
        from hadoctor.terminal import console

        self.console = console(stderr=True)
        self.quiet = quiet
        self.t0 = time.monotonic()

    def _say(self, lead: str, text: str) -> None:
        from hadoctor.terminal import hang, safe

        hang(self.console, lead, safe(text), 8)  # node names and remote output: shown, never obeyed

    def step(self, text: str) -> None:
        self._say(f"[dim]{time.monotonic() - self.t0:6.2f}s[/] ", text)

    def warn(self, text: str) -> None:
        self._say("[yellow]warning[/] ", text)

    def error(self, text: str) -> None:
        self._say("[bold red]error[/] ", text)


def _pause(point: str, progress: Progress) -> None:
    if os.environ.get(PAUSE_ENV) == point:
        sys.stderr.write(f"hadoctor-fix: paused at {point} pid={os.getpid()}\n")
        sys.stderr.flush()
        time.sleep(3600)


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- reading the nodes

def _shells(opts: FixOptions) -> Tuple[List[Shell], Optional[str]]:
    plan = host_plan(list(opts.nodes), opts.root)
    if not plan.nodes:
        raise UsageError(f"no nodes: {under_root(opts.root, '/etc/ha.d/ha.cf')} lists none and no --node was given",
                         "run this on a cluster node, or name every node with --node NAME")
    return plan.shells(opts.ssh), plan.local


def _inspect(shells: Sequence[Shell], root: str, extra: Optional[Dict[str, List[str]]] = None) -> Dict[str, object]:
    from hadoctor.fix.session import run_all

    jobs = [(s, nodescript.inspect_script(root, (extra or {}).get(s.node, []))) for s in shells]
    results = run_all(jobs, INSPECT_TIMEOUT)
    return {s.node: r for s, r in zip(shells, results)}


def _node_info(shell: Shell, out: Output, root: str) -> NodeInfo:
    from hadoctor.parsers.authkeys import parse_authkeys
    from hadoctor.parsers.hacf import parse_hacf

    info = NodeInfo(shell.node, shell, out)
    info.authkeys = out.files.get("authkeys", b"")
    stat = (out.get("ak_stat") or "").split()
    if len(stat) == 5:
        info.mode = int(stat[0], 8)
        info.mtime = int(stat[3])
    ak_path = under_root(root, "/etc/ha.d/authkeys")
    if "authkeys" in out.files:
        info.parsed = parse_authkeys(info.authkeys, ak_path, mode=info.mode)
    if "hacf" in out.files:
        info.hacf = parse_hacf(out.files["hacf"], under_root(root, "/etc/ha.d/ha.cf"))
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


def _hacf_times(info: NodeInfo, out: Output) -> None:
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


def hacf_pending(info: NodeInfo) -> Tuple[Optional[bool], Optional[bool]]:
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


def _read_marks(infos: Dict[str, NodeInfo]) -> None:
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


def _read_nodes(shells: Sequence[Shell], root: str, progress: Progress) -> Dict[str, NodeInfo]:
    results = _inspect(shells, root)
    unreachable = []
    for s in shells:
        r = results[s.node]
        if not r.ok:
            unreachable.append(f"{s.node}: {r.reason}")
    if unreachable:
        raise Refused("cannot read every node, so nothing was changed: " + "; ".join(unreachable),
                      "make every node reachable (ssh NODE works without a password: BatchMode) and run again")
    infos = {s.node: _node_info(s, parse_output(results[s.node].stdout), root) for s in shells}
    progress.step("read " + ", ".join(f"{n} ({results[n].where}, {results[n].duration_s * 1000:.0f} ms)"
                                      for n in infos))
    return infos


# --------------------------------------------------------------------------- health

def health_problems(infos: Dict[str, NodeInfo], planned: Sequence[str]) -> Tuple[List[str], List[str]]:
    """(reasons to refuse, warnings) about the cluster as the nodes see it now."""
    refuse: List[str] = []
    warn: List[str] = []
    members = set(planned)
    # a stopped heartbeat is the one reason about that node: what the others say of it follows from it
    stopped = {n for n, i in infos.items() if not i.running}
    for name, info in infos.items():
        uname = (info.out.get("uname") or "").lower()
        if uname and uname != name:
            refuse.append(f"{name}: the host reached as {name} calls itself {uname!r} (uname -n): wrong host?")
        if not info.out.get("heartbeat"):
            refuse.append(f"{name}: no heartbeat binary (looked in {', '.join(nodescript.HEARTBEAT_PATHS)})")
        if info.parsed is None:
            refuse.append(f"{name}: cannot read /etc/ha.d/authkeys")
        else:
            try:
                keyfile.usable_old_key(info.parsed)
            except KeyFileError as err:
                refuse.append(f"{name}: {err}")
            if any(p.code == BAD_MODE for p in info.parsed.problems):
                refuse.append(_bad_mode(name, info.mode))
            elif info.mode is not None and info.mode & 0o077:
                warn.append(f"{name}: authkeys is mode {info.mode:04o}; the new file will be 0600")
        if info.hacf is None:
            refuse.append(f"{name}: cannot read /etc/ha.d/ha.cf")
        else:
            declared = {n.lower() for n in info.hacf.node_names}
            missing = declared - members
            if missing:
                refuse.append(f"{name}: ha.cf lists {', '.join(sorted(missing))}, not in this rotation: a node left "
                              "on the old key drops the others' heartbeats (give every node with --node)")
        if not info.running:
            refuse.append(f"{name}: heartbeat is not running (cl_status hbstatus / pid file)")
        else:
            _hacf_problems(name, info, refuse, warn)
        if info.out.get("cl_status") is None:
            warn.append(f"{name}: no cl_status; node states not checked")
        elif info.running:
            for peer in members - stopped:
                state = info.peers.get(peer)
                if state is None:
                    refuse.append(f"{name}: cl_status does not list {peer}")
                elif state.lower() not in ("active", "up"):
                    refuse.append(f"{name} sees {peer} as {state!r} (cl_status nodestatus): the cluster is not "
                                  "healthy (a dead node or a partition)")
        if info.out.all("leftover"):
            warn.append(f"{name}: leftovers of an interrupted run: {', '.join(info.out.all('leftover'))} "
                        "(removed by this run)")
    fps = {n: (i.old_key.method, i.old_key.key) for n, i in infos.items() if i.old_key is not None}
    if len({(m, k.reveal() if k else None) for m, k in fps.values()}) > 1:
        refuse.append("the nodes' active keys differ (their heartbeats may already be dropped; see LOG021): "
                      "each node's own old key is kept listed, but check the cluster first")
    return refuse, warn


def _bad_mode(name: str, mode: Optional[int]) -> str:
    """heartbeat refuses an authkeys readable by group or others (docs/heartbeat/authkeys.md#permissions):
    its next reload or restart on that node would fail, and a rollback would put that file back."""
    shown = f"{mode:04o}" if mode is not None else "readable by group or others"
    return (f"{name}: /etc/ha.d/authkeys is mode {shown}, readable by group or others: heartbeat refuses such "
            f"a file (Bad permissions on keyfile), so its next reload or start on {name} fails. Fix the mode "
            f"first, on {name}: chmod 600 /etc/ha.d/authkeys")


def _hacf_problems(name: str, info: NodeInfo, refuse: List[str], warn: List[str]) -> None:
    """An ha.cf change heartbeat has not read yet: our `heartbeat -r` would restart it
    (docs/heartbeat/authkeys.md#reloading)."""
    by_mtime, by_ctime = hacf_pending(info)
    if info.hacf_mtime is None:
        return
    when = (info.hacf_mtime_local.strftime("%Y-%m-%d %H:%M:%S") if info.hacf_mtime_local
            else datetime.fromtimestamp(info.hacf_mtime, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"))
    started = "start unknown"
    if info.hb_started is not None:
        started = "started " + _node_local(info, info.hb_started)
    seen = (f"; its last reload in the log: {info.read_mark[1]!r} at {info.read_mark[0]:%Y-%m-%d %H:%M:%S}"
            if info.read_mark else "; no later restart or reload in its log" if info.log_path else "")
    what = f"heartbeat (pid {info.hb_pid if info.hb_pid is not None else '?'}, {started}{seen})"
    if by_mtime:
        refuse.append(
            f"{name}: /etc/ha.d/ha.cf was modified at {when} (mtime, node clock), after the running {what} "
            f"last read it: a reload for the new key would not just reread authkeys but restart heartbeat on "
            f"{name} with the pending ha.cf change, in the middle of the key switch. Reload heartbeat first "
            f"(heartbeat -r) so the pending ha.cf change is applied knowingly, or --force")
    elif by_mtime is None:
        warn.append(f"{name}: cannot tell whether /etc/ha.d/ha.cf (mtime {when}) changed after heartbeat last "
                    "read it (no start time of its master process, no reload in its log); if it was edited "
                    "without a reload, the rotation's `heartbeat -r` restarts heartbeat there")
    elif by_ctime:
        ctime = info.hacf_ctime_local.strftime("%Y-%m-%d %H:%M:%S") if info.hacf_ctime_local else str(info.hacf_ctime)
        warn.append(f"{name}: /etc/ha.d/ha.cf's inode changed at {ctime} (ctime) after {what} read it, with an "
                    f"older mtime ({when}): a chmod, or a copy that kept an old mtime (cp -p, rsync -t); in the "
                    "second case the rotation's `heartbeat -r` restarts heartbeat there (reload it first)")


def _node_local(info: NodeInfo, epoch: float) -> str:
    """An epoch time as the node's local time (its UTC offset from ha.cf's mtime in both forms)."""
    if info.hacf_mtime is not None and info.hacf_mtime_local is not None:
        offset = info.hacf_mtime_local - datetime.fromtimestamp(info.hacf_mtime, timezone.utc).replace(tzinfo=None)
        offset = timedelta(minutes=round(offset.total_seconds() / 60.0))
        return (datetime.fromtimestamp(int(epoch), timezone.utc).replace(tzinfo=None) + offset).strftime(
            "%Y-%m-%d %H:%M:%S")
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


# --------------------------------------------------------------------------- journal

def journal_doc(run: dict, node: str, state: str, backup: str) -> str:
    doc = dict(run)
    doc.update({"node": node, "state": state, "backup": backup, "updated": _now_iso()})
    return json.dumps(doc, sort_keys=True)


def _fp(salt: bytes, method: str, key: Optional[Secret]) -> str:
    return fingerprint(f"{method}:{key.reveal() if key is not None else ''}", salt)


# --------------------------------------------------------------------------- the rotation

@dataclass
class Outcome:
    action: str = "rotate"
    exit_code: int = EXIT_ROTATED
    message: str = ""
    procedure: Optional[str] = None
    procedure_reason: str = ""
    nodes: List[str] = field(default_factory=list)
    new_index: Optional[int] = None
    old_index: Optional[int] = None
    window_ms: Optional[float] = None
    release_spread_ms: Optional[float] = None
    switch_marks: Dict[str, dict] = field(default_factory=dict)
    auth_failures: Dict[str, dict] = field(default_factory=dict)
    wire: Dict[str, dict] = field(default_factory=dict)
    wire_note: str = ""
    backups: Dict[str, str] = field(default_factory=dict)
    fingerprints: Dict[str, str] = field(default_factory=dict)
    steps: List[dict] = field(default_factory=list)
    plan: List[str] = field(default_factory=list)
    diff: Dict[str, List[str]] = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)
    refusals: List[str] = field(default_factory=list)
    duration_s: float = 0.0

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["schema"] = "hadoctor-fix/1"
        return d


class Rotation:
    def __init__(self, opts: FixOptions, progress: Progress) -> None:
        self.opts = opts
        self.progress = progress
        self.outcome = Outcome()
        self.t0 = time.monotonic()
        self.last_reload: Dict[str, float] = {}

    # ----- helpers
    def step(self, name: str, t: float, **data) -> None:
        item = {"step": name, "ms": round((time.monotonic() - t) * 1000.0, 1)}
        item.update(data)
        self.outcome.steps.append(item)
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
        return max((self.keepalive_s(i) for i in self.infos.values()), default=2.0)

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

    # ----- main entry
    def run(self) -> Outcome:
        opts, progress, o = self.opts, self.progress, self.outcome
        shells, local = _shells(opts)
        self.local = local
        o.nodes = [s.node for s in shells]
        infos = _read_nodes(shells, opts.root, progress)
        self.infos = infos
        unfinished = {n: i.journal for n, i in infos.items()
                      if i.journal is not None and i.journal.get("state") in ACTIVE_STATES}
        if unfinished:
            return self.recover(unfinished)
        _read_marks(infos)
        refuse, warn = health_problems(infos, o.nodes)
        o.warnings += warn
        for w in warn:
            progress.warn(w)
        if refuse:
            o.refusals = refuse
            if not opts.force:
                o.action = "refused"
                o.exit_code = EXIT_REFUSED
                o.message = "nothing was changed: " + "; ".join(refuse)
                return o
            for r in refuse:
                progress.warn(f"--force: going on although {r}")
            for name, info in infos.items():
                if info.old_key is None or not info.running or not info.out.get("heartbeat"):
                    raise Refused(f"{name}: cannot rotate even with --force: no usable authkeys, heartbeat "
                                  "binary or running daemon", "fix that node first")
        self.choose_procedure()
        self.make_plan()
        if opts.dry_run:
            o.action = "dry-run"
            o.message = "dry run: nothing was changed"
            return o
        self.confirm()
        _pause("planned", progress)
        return self.execute()

    # ----- wire format
    def choose_procedure(self) -> None:
        o = self.outcome
        ok, why = self.capture_possible(self.local)
        fmt = None
        if ok:
            from hadoctor.fix.verify import WireWatch

            t = time.monotonic()
            info = self.infos[self.local]
            watch = WireWatch(self.ports(info), o.nodes, seconds=max(2.5, 2.5 * self.keepalive_s(info)),
                              stop_when_all_heard=True).start().join()
            fmt = watch.wire_format()
            self.step("wire-format", t, heard=sorted(watch.senders), format=fmt)
            if watch.error:
                why = watch.error
            elif fmt is None:
                why = "no heartbeat packet heard"
        if fmt is not None:
            o.procedure = fmt
            o.procedure_reason = f"{fmt} packets seen on the wire"
            return
        from hadoctor.fix.verify import glue_is_netstring

        versions = {n: i.out.get("glue") or "" for n, i in self.infos.items()}
        verdicts = {n: glue_is_netstring(v) for n, v in versions.items()}
        if verdicts and all(v is False for v in verdicts.values()):
            o.procedure, o.procedure_reason = "classic", f"cluster-glue < 1.0.10 on every node ({versions}); {why}"
        else:
            o.procedure = "netstring"
            o.procedure_reason = (f"cluster-glue versions {versions} ({'>= 1.0.10 sends netstring' if any(verdicts.values()) else 'unknown: the all-at-once switch is safe for both formats'}); "
                                  f"wire not observed: {why}")

    @staticmethod
    def ports(info: NodeInfo) -> List[int]:
        if info.hacf is None:
            return [694]
        ports = set(info.hacf.udpport_for_media().values()) | {m.port for m in info.hacf.media if m.port}
        return sorted(ports) or [694]

    @staticmethod
    def keepalive_s(info: NodeInfo) -> float:
        try:
            return max(0.1, info.hacf.keepalive.value / 1000.0)
        except (AttributeError, TypeError):
            return 2.0

    # ----- plan
    def make_plan(self) -> None:
        o = self.outcome
        used = set()
        for info in self.infos.values():
            used |= set(info.parsed.keys) if info.parsed is not None else set()
        self.salt = os.urandom(16)
        old_indexes = {i.old_key.index for i in self.infos.values() if i.old_key is not None}
        self.new = NewKey.generate(used=used | old_indexes)
        o.new_index = self.new.index
        o.old_index = sorted(old_indexes)[0] if old_indexes else None
        self.run_id = uuid.uuid4().hex[:12]
        self.files: Dict[str, Dict[str, bytes]] = {}
        for name, info in self.infos.items():
            note = f"run {self.run_id}"
            self.files[name] = {stage: keyfile.build(info.old_key, self.new, stage, note) for stage in keyfile.STAGES}
            o.diff[name] = keyfile.masked_diff(info.authkeys, self.files[name]["final"],
                                               under_root(self.opts.root, "/etc/ha.d/authkeys"), self.salt)
        old = next(iter(self.infos.values())).old_key
        self.journal_base = {
            "schema": "hadoctor-fix-journal/1", "run": self.run_id, "started": _now_iso(),
            "from_host": os.uname().nodename, "nodes": o.nodes, "procedure": o.procedure,
            "salt": self.salt.hex(),
            "old": {"index": old.index, "fp": _fp(self.salt, old.method, old.key)},
            "new": {"index": self.new.index, "fp": _fp(self.salt, self.new.method, self.new.secret)},
        }
        switch = ("switch every node at once (netstring wire: a receiver verifies with its own ACTIVE key, so "
                  "the nodes must flip together, well under warntime)" if o.procedure == "netstring"
                  else "switch node by node (classic wire: every listed key verifies)")
        o.plan = [
            f"nodes: {', '.join(o.nodes)} (this host: {self.local or 'not a member'}); procedure: {o.procedure} "
            f"({o.procedure_reason})",
            f"new key: index {self.new.index}, sha1, {keyfile.KEY_BYTES} random bytes (hex), from the OS's "
            "secure random source",
            "1. backup authkeys on every node: /etc/ha.d/authkeys.hadoctor-YYYYmmddTHHMMSS[.n] (0600, kept); "
            f"journal /var/lib/heartbeat/{nodescript.JOURNAL_NAME} (0600)",
            f"2. stage: auth {o.old_index} (still signing with the old key) + key {self.new.index} listed; "
            "heartbeat -r on every node",
            f"3. {switch}: auth {self.new.index}, both keys listed; heartbeat -r",
            "4. verify: the peers' heartbeats carry the new key and verify with it (packet capture here), no "
            "authentication failure after the switch, no node declared dead, every node active (cl_status)",
            f"5. final file: auth {self.new.index} and the new key only; heartbeat -r",
            "on any failure: every node back to its backup (validated reload, all nodes together)",
        ]

    def confirm(self) -> None:
        if self.opts.yes:
            return
        if not sys.stdin.isatty():
            raise UsageError("confirmation needed: standard input is not a terminal",
                             "look at the plan with --dry-run, then run with --yes")
        from hadoctor.terminal import visible

        self.render_plan()
        answer = input(f"Rotate the authkeys of {visible(', '.join(self.outcome.nodes))} now? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise Refused("not confirmed: nothing was changed")

    def render_plan(self) -> None:
        from hadoctor.terminal import visible

        c = self.progress.console
        for line in self.outcome.plan:
            c.print(visible(line), markup=False)
        for node, diff in self.outcome.diff.items():
            c.print(f"--- {visible(node)}", markup=False)
            for line in diff:
                c.print(visible(line), markup=False)

    # ----- execution
    def _journal(self, node: str, state: str, backup: Optional[str] = None) -> str:
        return journal_doc(self.journal_base, node, state, backup or self.infos[node].backup or "@BACKUP@")

    def execute(self) -> Outcome:
        o = self.outcome
        names = list(self.infos)
        self.seed_last_reload()
        self.settle(names)
        # 1+2: backup and stage, node by node (harmless on the wire: the old key still signs)
        t = time.monotonic()
        staged: List[str] = []
        for i, name in enumerate(names):
            info = self.infos[name]
            script = nodescript.apply_script(self.opts.root, self.files[name]["staged"],
                                             journal_before=self._journal(name, "staging", "@BACKUP@"),
                                             journal_after=self._journal(name, "staged", "@BACKUP@"),
                                             backup=True)
            r = info.shell.run(script, timeout=WRITE_TIMEOUT)
            out = parse_output(r.stdout)
            if out.get("backup"):
                info.backup = out.get("backup")
                o.backups[name] = info.backup
            if not (r.ok and out.ok):
                why = out.get("reason") or r.reason
                if info.backup:
                    staged.append(name)   # maybe changed: roll back too
                return self.fail_and_rollback(staged, f"staging on {name} failed: {why}", switched=False)
            staged.append(name)
            self.last_reload[name] = time.time()
            if i == 0 and len(names) > 1:
                _pause("stage-partial", self.progress)
        self.step("backup+stage", t, backups=o.backups)
        _pause("staged", self.progress)
        if o.procedure == "classic":
            ok, why = self.switch_one_by_one(names)
        else:
            ok, why = self.switch_together(names, "switched", "switch")
        if not ok:
            return self.fail_and_rollback(names, why, switched=True)
        _pause("switched", self.progress)
        ok, why = self.verify(names)
        if not ok:
            return self.fail_and_rollback(names, f"verification failed: {why}", switched=True)
        _pause("verified", self.progress)
        return self.finalize(names)

    def switch_together(self, names: Sequence[str], stage: str, label: str,
                        contents: Optional[Dict[str, bytes]] = None) -> Tuple[bool, str]:
        """Prepare the file on every node over held connections, then release them together."""
        from hadoctor.fix.session import hold_all, release

        o = self.outcome
        t = time.monotonic()
        jobs = []
        # the local node last: its release has no network hop, so the nodes reload closer together
        names = sorted(names, key=lambda n: n == self.local)
        for name in names:
            info = self.infos[name]
            content = contents[name] if contents else self.files[name][stage]
            state = {"switched": "switched", "restored": "rolled-back"}.get(stage, stage)
            before = {"switched": "switching", "restored": "rolling-back"}.get(stage, stage)
            jobs.append((info.shell, nodescript.apply_script(
                self.opts.root, content, journal_before=self._journal(name, before),
                journal_after=self._journal(name, state), hold=True, log_path=info.log_path)))
        held, failed = hold_all(jobs, ready_timeout=WRITE_TIMEOUT)
        if failed:
            for h in held:
                h.abandon()
            for h in held:
                h.finish(10)
            return False, "not every node got ready, nothing was switched: " + \
                "; ".join(f"{n}: {w}" for n, w in failed.items())
        self.step(f"{label}-ready", t)
        if label == "switch":
            _pause("switch-ready", self.progress)
        self.watch = None
        self.settle(names)
        if label == "switch":
            self.start_watch()
        self.release_wall = time.time()

        def between(i: int) -> None:
            if label == "switch" and i == 0 and len(held) > 1:
                _pause("switch-partial", self.progress)

        t_rel = time.monotonic()
        release(held, between)
        done = [h.finish(WRITE_TIMEOUT) for h in held]
        self.switch_done_wall = time.time()
        for d in done:
            self.last_reload[d.node] = self.switch_done_wall
        marks = []
        bad = []
        for d in done:
            info = self.infos[d.node]
            if d.output.get("log_size") is not None:
                info.log_offset = int(d.output.get("log_size"))
            try:
                marks.append((d.node, float(d.output.get("t_start")), float(d.output.get("t_done"))))
            except (TypeError, ValueError):
                pass
            o.switch_marks[d.node] = {"t_start": d.output.get("t_start"), "t_done": d.output.get("t_done"),
                                      "reload_rc": d.output.get("reload_rc"),
                                      "go_sent_ms": round((d.sent_at - t_rel) * 1000.0, 2)}
            if not (d.result.ok and d.output.ok):
                bad.append(f"{d.node}: {d.output.get('reason') or d.result.reason}")
        from hadoctor.fix.verify import split_for_window

        if label == "switch":
            o.window_ms = split_for_window(marks)
            sent = [h.sent_at for h in held if h.sent_at]
            o.release_spread_ms = round((max(sent) - min(sent)) * 1000.0, 2) if sent else None
        self.step(label, t_rel, window_ms=split_for_window(marks))
        if bad:
            return False, "; ".join(bad)
        return True, ""

    def switch_one_by_one(self, names: Sequence[str]) -> Tuple[bool, str]:
        o = self.outcome
        self.start_watch()
        self.release_wall = time.time()
        t = time.monotonic()
        for i, name in enumerate(names):
            info = self.infos[name]
            self.settle([name])
            r = info.shell.run(nodescript.apply_script(
                self.opts.root, self.files[name]["switched"], journal_before=self._journal(name, "switching"),
                journal_after=self._journal(name, "switched"), log_path=info.log_path), timeout=WRITE_TIMEOUT)
            out = parse_output(r.stdout)
            self.last_reload[name] = time.time()
            if out.get("log_size") is not None:
                info.log_offset = int(out.get("log_size"))
            o.switch_marks[name] = {"t_start": out.get("t_start"), "t_done": out.get("t_done"),
                                    "reload_rc": out.get("reload_rc")}
            if not (r.ok and out.ok):
                return False, f"{name}: {out.get('reason') or r.reason}"
            if i == 0 and len(names) > 1:
                _pause("switch-partial", self.progress)
        self.switch_done_wall = time.time()
        self.step("switch (node by node)", t)
        return True, ""

    def start_watch(self) -> None:
        ok, why = self.capture_possible(self.local)
        self.watch = None
        if not ok:
            self.outcome.wire_note = f"wire check skipped: {why}"
            return
        from hadoctor.fix.verify import WireWatch
        from hadoctor.parsers.authkeys import parse_authkeys

        info = self.infos[self.local]
        model = parse_authkeys(self.files[self.local]["switched"], "switched")
        self.watch = WireWatch(self.ports(info), self.outcome.nodes, seconds=60.0, model=model,
                               new_index=self.new.index).start()

    def verify(self, names: Sequence[str]) -> Tuple[bool, str]:
        """Wire + logs + cl_status after the switch; (ok, why not)."""
        from hadoctor.fix.session import run_all
        from hadoctor.fix.verify import LogCounts

        o = self.outcome
        t = time.monotonic()
        keepalive = max(self.keepalive_s(i) for i in self.infos.values())
        settle = keepalive + 0.5
        time.sleep(max(0.0, self.switch_done_wall + settle - time.time()))
        # first slice: the switch window itself (failures here are counted, not fatal)
        window = self._log_slices(names)
        observe = max(2.0, 2 * keepalive)
        time.sleep(observe)
        after = self._log_slices(names)
        problems = []
        for name in names:
            w = window.get(name)
            a = after.get(name)
            total = LogCounts()
            for part in (w, a):
                if part is not None:
                    total.add(part)
            o.auth_failures[name] = {"in_window": w.auth_failures if w else None,
                                     "after_window": a.auth_failures if a else None,
                                     "by_kind": total.by_kind, "rereads": total.rereads,
                                     "dead": total.dead, "partition": total.partition}
            if w is None and a is None:
                o.warnings.append(f"{name}: log not read ({self.infos[name].log_path or 'no logfile in ha.cf'})")
            if w is not None and not total.rereads:
                problems.append(f"{name}: heartbeat did not log 'Rereading authentication file' after the switch")
            if total.dead:
                problems.append(f"{name} logged node(s) {', '.join(total.dead)} dead")
            if total.partition:
                problems.append(f"{name} logged {', '.join(total.partition)} returning after partition")
            if a is not None and a.auth_failures:
                problems.append(f"{name} still rejects heartbeats after the switch ({a.auth_failures} auth failure "
                                "line(s))")
        if self.watch is not None:
            self.watch.stop()
            self.watch.join(2)
            end = self.switch_done_wall + 0.3
            for name in names:
                seen = self.watch.senders.get(name)
                o.wire[name] = seen.to_dict() if seen else {"packets": 0}
                if seen is None or not seen.verified_new:
                    problems.append(f"no heartbeat from {name} signed with the new key was captured here")
                elif seen.failed_new:
                    problems.append(f"{seen.failed_new} packet(s) from {name} at the new index do not verify")
                elif seen.last_old is not None and seen.last_old > end:
                    problems.append(f"{name} still signs with the old key after the switch")
            if self.watch.error:
                o.wire_note = f"wire check failed: {self.watch.error}"
                problems.append(o.wire_note)
        # every node active, from every node
        results = run_all([(self.infos[n].shell, nodescript.inspect_script(self.opts.root)) for n in names],
                          INSPECT_TIMEOUT)
        for name, r in zip(names, results):
            out = parse_output(r.stdout)
            if not r.ok:
                problems.append(f"{name}: cannot read it after the switch: {r.reason}")
                continue
            info = _node_info(self.infos[name].shell, out, self.opts.root)
            if not info.running:
                problems.append(f"{name}: heartbeat is not running")
            for peer in names:
                state = info.peers.get(peer)
                if out.get("cl_status") and (state or "").lower() not in ("active", "up"):
                    problems.append(f"{name} sees {peer} as {state!r}")
            active = info.old_key
            if active is None or active.index != self.new.index or active.key != self.new.secret:
                problems.append(f"{name}: the live authkeys does not sign with the new key")
        self.step("verify", t, auth_failures={n: v["in_window"] for n, v in o.auth_failures.items()})
        return (not problems), "; ".join(problems)

    def _log_slices(self, names: Sequence[str]):
        from hadoctor.fix.session import run_all
        from hadoctor.fix.verify import log_counts

        jobs, which = [], []
        for name in names:
            info = self.infos[name]
            off = info.log_offset
            if info.log_path and off is not None:
                jobs.append((info.shell, nodescript.log_tail_script(info.log_path, off)))
                which.append(name)
        out = {}
        for name, r in zip(which, run_all(jobs, INSPECT_TIMEOUT) if jobs else []):
            parsed = parse_output(r.stdout)
            if r.ok and "log" in parsed.files:
                out[name] = log_counts(parsed.files["log"], self.infos[name].log_path)
                try:
                    self.infos[name].log_offset = int(parsed.get("size"))
                except (TypeError, ValueError):
                    pass
        return out

    def finalize(self, names: Sequence[str]) -> Outcome:
        o = self.outcome
        t = time.monotonic()
        self.settle(names)
        for i, name in enumerate(names):
            info = self.infos[name]
            r = info.shell.run(nodescript.apply_script(
                self.opts.root, self.files[name]["final"], journal_before=self._journal(name, "finalizing"),
                journal_after=self._journal(name, "done")), timeout=WRITE_TIMEOUT)
            out = parse_output(r.stdout)
            if not (r.ok and out.ok):
                # the switched file (both keys, new active) stays: working, just not final
                o.exit_code = EXIT_ATTENTION
                o.message = (f"rotated, but removing the old key on {name} failed: {out.get('reason') or r.reason}; "
                             "run again to finish")
                return self.done(o)
            if i == 0 and len(names) > 1:
                _pause("final-partial", self.progress)
        self.step("final", t)
        o.fingerprints = {n: _fp(self.salt, self.new.method, self.new.secret) for n in names}
        o.message = f"rotated: every node signs with key {self.new.index} (old key removed)"
        return self.done(o)

    def done(self, o: Outcome) -> Outcome:
        o.duration_s = round(time.monotonic() - self.t0, 2)
        return o

    # ----- failure: every node back to its backup
    def fail_and_rollback(self, names: Sequence[str], why: str, switched: bool) -> Outcome:
        o = self.outcome
        self.progress.error(why)
        if self.watch_active():
            self.watch.stop()
        if not names:
            o.action, o.exit_code = "rolled-back", EXIT_ROLLED_BACK
            o.message = f"{why}; nothing had been changed"
            return self.done(o)
        contents = {n: self.infos[n].authkeys for n in names}
        ok, rb_why = self.restore(names, contents)
        if ok:
            o.action, o.exit_code = "rolled-back", EXIT_ROLLED_BACK
            o.message = f"{why}; every node is back on its previous authkeys (backups kept: {o.backups})"
        else:
            o.action, o.exit_code = "attention", EXIT_ATTENTION
            o.message = f"{why}; ROLLBACK FAILED: {rb_why}; backups: {o.backups}"
        return self.done(o)

    def watch_active(self) -> bool:
        return getattr(self, "watch", None) is not None

    def restore(self, names: Sequence[str], contents: Dict[str, bytes]) -> Tuple[bool, str]:
        """Put ``contents`` (the backups' bytes) back on ``names``, all together (netstring needs it)."""
        t = time.monotonic()
        ok, why = self.switch_together(names, "restored", "rollback", contents=contents)
        if ok:
            from hadoctor.fix.session import run_all

            run_all([(self.infos[n].shell, nodescript.cleanup_script(self.opts.root)) for n in names],
                    WRITE_TIMEOUT)
        self.step("rollback", t, ok=ok)
        return ok, why

    # ----- a re-run after a crash
    def recover(self, unfinished: Dict[str, dict]) -> Outcome:

        o = self.outcome
        o.action = "recover"
        runs = {j.get("run") for j in unfinished.values()}
        if len(runs) != 1:
            raise Attention(f"journals of different runs on the nodes ({sorted(map(str, runs))}): "
                                "restore the backups by hand", "see docs/fix-authkeys.md")
        doc = next(iter(unfinished.values()))
        self.journal_base = {k: v for k, v in doc.items() if k not in ("node", "state", "backup", "updated")}
        self.run_id = doc.get("run")
        self.salt = bytes.fromhex(doc["salt"])
        new_fp, old_fp = doc["new"]["fp"], doc["old"]["fp"]
        new_index = int(doc["new"]["index"])
        o.procedure = doc.get("procedure")
        self.progress.step(f"an interrupted rotation (run {self.run_id}) left journals on "
                           f"{', '.join(sorted(unfinished))}: recovering")
        # where each node stands; the new key from any node that lists it
        states: Dict[str, str] = {}
        new_secret = None
        for name, info in self.infos.items():
            # only this run's journal names a backup to restore; a node whose journal is from an
            # earlier (finished) run was not touched by the interrupted one
            mine = info.journal is not None and info.journal.get("run") == self.run_id
            info.backup = info.journal.get("backup") if mine else None
            if not mine:
                info.journal = None
            if info.backup and "@" not in info.backup:
                o.backups[name] = info.backup
            parsed = info.parsed
            if parsed is None or parsed.active is None:
                states[name] = "unreadable"
                continue
            for key in parsed.keys.values():
                if key.index == new_index and _fp(self.salt, key.method, key.key) == new_fp:
                    new_secret = key.key
            fp = _fp(self.salt, parsed.active.method, parsed.active.key)
            states[name] = "new" if fp == new_fp else "old" if fp == old_fp else "other"
        o.plan = [f"{n}: {s}" for n, s in states.items()]
        self.progress.step("node states: " + ", ".join(o.plan))
        if any(s in ("other", "unreadable") for s in states.values()):
            o.exit_code, o.action = EXIT_ATTENTION, "attention"
            o.message = ("cannot recover automatically: " + ", ".join(f"{n} is {s}" for n, s in states.items()) +
                         f"; backups: {o.backups}; journal /var/lib/heartbeat/{nodescript.JOURNAL_NAME}")
            return self.done(o)
        if self.opts.dry_run:
            o.message = "dry run: would " + ("complete" if "new" in states.values() else "roll back")
            return self.done(o)
        self.confirm_recovery(states)
        names = list(self.infos)
        self.seed_last_reload()
        self.watch = None
        if "new" in states.values() and new_secret is not None:
            # some node already signs with the new key: complete forward
            self.new = NewKey(new_index, "sha1", new_secret)
            o.new_index = new_index
            self.files = {}
            for name, info in self.infos.items():
                old = self._old_key_for(info, new_index)
                self.files[name] = {stage: keyfile.build(old, self.new, stage, f"run {self.run_id}")
                                    for stage in keyfile.STAGES}
            lagging = [n for n, s in states.items() if s == "old"]
            if lagging:
                ok, why = self.switch_together(lagging, "switched", "switch")
                if not ok:
                    return self.fail_and_rollback_recovery(names, why)
            else:
                self.switch_done_wall = time.time()
                for info in self.infos.values():
                    info.log_offset = None
            time.sleep(0.2)
            ok, why = self.verify(names)
            if not ok:
                return self.fail_and_rollback_recovery(names, f"verification failed: {why}")
            self.outcome.action = "recover"
            out = self.finalize(names)
            if out.exit_code == EXIT_ROTATED:
                out.message = "the interrupted rotation was completed: " + out.message
            self._cleanup(names)
            return out
        return self.fail_and_rollback_recovery(names, "the interrupted rotation had not switched any node")

    def _old_key_for(self, info: NodeInfo, new_index: int):
        parsed = info.parsed
        if parsed.active is not None and parsed.active.index != new_index:
            return parsed.active
        for key in parsed.keys.values():
            if key.index != new_index:
                return key
        # already final on this node: any placeholder old key is fine, only "final" is used there
        from hadoctor.parsers.authkeys import AuthKey

        return AuthKey((new_index + 1) % 16, "crc", None, 0)

    def confirm_recovery(self, states: Dict[str, str]) -> None:
        if self.opts.yes:
            return
        if not sys.stdin.isatty():
            raise UsageError("confirmation needed to recover the interrupted rotation",
                             "run with --yes (see --dry-run for what it would do)")
        answer = input(f"Recover the interrupted rotation ({', '.join(f'{n}: {s}' for n, s in states.items())})? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise Refused("not confirmed: nothing was changed")

    def fail_and_rollback_recovery(self, names: Sequence[str], why: str) -> Outcome:
        """Roll back to the backups this run's journals name (read from the nodes)."""
        o = self.outcome
        extra = {n: [self.infos[n].backup] for n in names if self.infos[n].backup and "@" not in self.infos[n].backup}
        contents: Dict[str, bytes] = {}
        if extra:
            results = _inspect([self.infos[n].shell for n in extra], self.opts.root, extra)
            for n, r in results.items():
                out = parse_output(r.stdout)
                data = out.files.get(f"extra:{self.infos[n].backup}")
                if data is not None:
                    contents[n] = data
        missing = [n for n in extra if n not in contents]
        if missing:
            o.exit_code, o.action = EXIT_ATTENTION, "attention"
            o.message = f"{why}; cannot read the backups of {', '.join(missing)}: restore by hand ({o.backups})"
            return self.done(o)
        changed = [n for n, data in contents.items() if data != self.infos[n].authkeys]
        if changed:
            ok, rb_why = self.restore(changed, contents)
            if not ok:
                o.exit_code, o.action = EXIT_ATTENTION, "attention"
                o.message = f"{why}; ROLLBACK FAILED: {rb_why}; backups: {o.backups}"
                return self.done(o)
        for n in names:
            self.infos[n].backup = o.backups.get(n, self.infos[n].backup)
        self._cleanup(names, state="rolled-back")
        o.action, o.exit_code = "rolled-back", EXIT_ROLLED_BACK
        o.message = (f"{why}: rolled back; every node is on its previous authkeys again "
                     f"({', '.join(changed) or 'no file had changed'}); run again to rotate")
        return self.done(o)

    def _cleanup(self, names: Sequence[str], state: Optional[str] = None) -> None:
        from hadoctor.fix.session import run_all

        jobs = []
        for n in names:
            journal = None
            if state is not None and self.infos[n].journal is not None:
                journal = journal_doc(self.journal_base, n, state, self.infos[n].backup or "")
            jobs.append((self.infos[n].shell, nodescript.cleanup_script(self.opts.root, journal)))
        run_all(jobs, WRITE_TIMEOUT)
