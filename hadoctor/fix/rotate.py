"""``hadoctor fix --authkeys``: rotate heartbeat's cluster key without a failover (docs/fix-authkeys.md).

plan (read every node, refuse an unhealthy cluster) → confirm → stage (backup, old key still
active, new key listed) → switch (netstring: every node at once over held connections; classic:
node by node) → verify (wire + logs + cl_status) → final file (old key removed); any failure after
the first change rolls every node back to its backup. A journal on every node lets a re-run after
a crash complete the rotation (some node already signs with the new key) or roll it back.

This module runs the procedure; its parts live beside it: :mod:`~hadoctor.fix.model` (options, exit
codes, the report), :mod:`~hadoctor.fix.inspect` (reading the nodes), :mod:`~hadoctor.fix.health`
(when to refuse), :mod:`~hadoctor.fix.plan` (the frozen plan, new or from the journal),
:mod:`~hadoctor.fix.keyfile` (the files), :mod:`~hadoctor.fix.nodescript` and
:mod:`~hadoctor.fix.session` (the scripts on the nodes), :mod:`~hadoctor.fix.observe` (the wire and
log observations).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

from hadoctor.errors import UsageError
from hadoctor.fix import nodescript
from hadoctor.fix.health import health_problems
from hadoctor.fix.inspect import (INSPECT_TIMEOUT, NodeState, inspect, keepalive_s, node_state, ports, read_marks,
                                  read_nodes, running_params, shells_for)
from hadoctor.fix.model import (EXIT_ATTENTION, EXIT_REFUSED, EXIT_ROLLED_BACK, EXIT_ROTATED, Attention, FixOptions,
                                FixProgress, Refused, RotationReport, pause)
from hadoctor.fix.nodescript import parse_output
from hadoctor.fix.plan import Plan, describe, key_fp

ACTIVE_STATES = ("staging", "staged", "switching", "switched", "reverted", "finalizing", "rolling-back")
WRITE_TIMEOUT = 30.0
#: a go arriving this many seconds after the node got ready switches nothing (a line a healed connection
#: delivers late); hadoctor releases within a few seconds of the first ready or not at all
STALE_GO_S = 10


class Rotation:
    """One run: read the nodes, judge, plan, then switch, verify, finalize (or roll back); or, when an
    interrupted run left journals, recover it. Progress goes to ``progress``; :attr:`report` is the result."""

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

    # ----- helpers
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

    # ----- main entry
    def run(self) -> RotationReport:
        opts, progress, o = self.opts, self.progress, self.report
        shells, self.local = shells_for(opts)
        o.nodes = [s.node for s in shells]
        infos = self.infos = read_nodes(shells, opts.root, progress)
        pending = [(n, i.revert_pending_s) for n, i in infos.items() if i.revert_pending_s is not None]
        wait = max((s for _, s in pending), default=0.0)
        if wait > 0:
            # an interrupted switch's watchdogs decide first; then the live files tell what they did
            progress.step(f"the revert of an unconfirmed switch is armed on {', '.join(n for n, _ in pending)}: "
                          f"waiting {wait:.0f} s for it")
            time.sleep(min(wait + 0.5, 60.0))
            infos = self.infos = read_nodes(shells, opts.root, progress)
        unfinished = {n: i.journal for n, i in infos.items()
                      if i.journal is not None and i.journal.get("state") in ACTIVE_STATES}
        if unfinished:
            return self.recover(unfinished)
        read_marks(infos)
        running_params(infos, opts.root)
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
        pause("planned")
        return self.execute()

    # ----- wire format
    def choose_procedure(self) -> None:
        o = self.report
        ok, why = self.capture_possible(self.local)
        fmt = None
        if ok:
            from hadoctor.fix.observe import WireWatch

            t = time.monotonic()
            info = self.infos[self.local]
            watch = WireWatch(ports(info), o.nodes, seconds=max(2.5, 2.5 * keepalive_s(info)),
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
        from hadoctor.fix.observe import glue_is_netstring

        versions = {n: i.out.get("glue") or "" for n, i in self.infos.items()}
        verdicts = {n: glue_is_netstring(v) for n, v in versions.items()}
        if verdicts and all(v is False for v in verdicts.values()):
            o.procedure, o.procedure_reason = "classic", f"cluster-glue < 1.0.10 on every node ({versions}); {why}"
        else:
            o.procedure = "netstring"
            o.procedure_reason = (f"cluster-glue versions {versions} ({'>= 1.0.10 sends netstring' if any(verdicts.values()) else 'unknown: the all-at-once switch is safe for both formats'}); "
                                  f"wire not observed: {why}")

    # ----- plan
    def make_plan(self) -> None:
        o = self.report
        self.plan = plan = Plan.make(self.infos, o.nodes, o.procedure)
        o.new_index, o.old_index = plan.new.index, plan.old_index
        o.plan, o.diff = describe(plan, self.infos, o.nodes, self.local, o.procedure_reason, self.opts.root)

    def confirm(self) -> None:
        if self.opts.yes:
            return
        if not sys.stdin.isatty():
            raise UsageError("confirmation needed: standard input is not a terminal",
                             "look at the plan with --dry-run, then run with --yes")
        from hadoctor.terminal import visible

        self.show_plan()
        answer = input(f"Rotate the authkeys of {visible(', '.join(self.report.nodes))} now? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise Refused("not confirmed: nothing was changed")

    def show_plan(self) -> None:
        from hadoctor.terminal import visible

        c = self.progress.console
        for line in self.report.plan:
            c.print(visible(line), markup=False)
        for node, diff in self.report.diff.items():
            c.print(f"--- {visible(node)}", markup=False)
            for line in diff:
                c.print(visible(line), markup=False)

    # ----- execution
    def _journal(self, node: str, state: str, backup: Optional[str] = None) -> str:
        return self.plan.journal(node, state, backup or self.infos[node].backup or "@BACKUP@")

    def execute(self) -> RotationReport:
        o = self.report
        names = list(self.infos)
        self.seed_last_reload()
        self.settle(names)
        # 1+2: backup and stage, node by node (harmless on the wire: the old key still signs)
        t = time.monotonic()
        staged: List[str] = []
        for i, name in enumerate(names):
            info = self.infos[name]
            script = nodescript.apply_script(self.opts.root, self.plan.files[name]["staged"],
                                             journal_before=self._journal(name, "staging", "@BACKUP@"),
                                             journal_after=self._journal(name, "staged", "@BACKUP@"),
                                             backup=True, log_path=info.log_path)
            r = info.shell.run(script, timeout=WRITE_TIMEOUT)
            out = parse_output(r.stdout)
            if (out.get("log_size") or "").isdigit():
                info.stage_log_offset = int(out.get("log_size"))
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
                pause("stage-partial")
        self.step("backup+stage", t, backups=o.backups)
        pause("staged")
        if o.procedure == "classic":
            ok, why = self.switch_one_by_one(names)
        else:
            ok, why = self.switch_together(names, "switched", "switch")
        if not ok:
            return self.fail_and_rollback(names, why, switched=True)
        pause("switched")
        ok, why = self.confirm_switch(names)
        if not ok:
            return self.fail_and_rollback(names, f"verification failed: {why}", switched=True)
        pause("verified")
        return self.finalize(names)

    def revert_deadline(self) -> float:
        """How long a switched node waits for the confirmation before it reverts by itself: half of
        min(warntime, deadtime) (docs/fix-authkeys.md#commit-confirmed), at least 0.5 s."""
        limits = []
        for info in self.infos.values():
            try:
                limits.append(min(info.hacf.warntime.value, info.hacf.deadtime.value) / 1000.0)
            except (AttributeError, TypeError):
                continue
        return round(max(0.5, min(limits, default=10.0) / 2.0), 3)

    def switch_together(self, names: Sequence[str], stage: str, label: str,
                        contents: Optional[Dict[str, bytes]] = None) -> Tuple[bool, str]:
        """Prepare the file on every node over held connections, release them together, and confirm
        once every node said it switched (commit confirmed: a node not confirmed within the revert
        deadline puts its previous file back by itself)."""
        from hadoctor.fix.session import hold_all, release

        o = self.report
        # settle first: the go must follow the ready closely (a late go switches nothing)
        self.settle(names)
        t = time.monotonic()
        deadline_s = self.revert_deadline()
        o.revert_deadline_s = deadline_s
        jobs = []
        # the local node last: its release has no network hop, so the nodes reload closer together
        names = sorted(names, key=lambda n: n == self.local)
        for name in names:
            info = self.infos[name]
            content = contents[name] if contents else self.plan.files[name][stage]
            state = {"switched": "switched", "restored": "rolled-back"}.get(stage, stage)
            before = {"switched": "switching", "restored": "rolling-back"}.get(stage, stage)
            wd = nodescript.Watchdog(deadline_s, STALE_GO_S, self._journal(name, "reverted"))
            jobs.append((info.shell, nodescript.apply_script(
                self.opts.root, content, journal_before=self._journal(name, before),
                journal_after=self._journal(name, state), hold=True, log_path=info.log_path, watchdog=wd)))
        held, failed = hold_all(jobs, ready_timeout=WRITE_TIMEOUT)
        if not failed and time.monotonic() - min(h.ready_at for h in held) > STALE_GO_S - 2:
            failed = {held[0].node: "the nodes took too long to get ready (a go would come too late)"}
        if failed:
            for h in held:
                h.abandon()
            for h in held:
                h.finish(10)
            return False, "not every node got ready, nothing was switched: " + \
                "; ".join(f"{n}: {w}" for n, w in failed.items())
        self.step(f"{label}-ready", t)
        if label == "switch":
            pause("switch-ready")
            self.start_watch()
        self.release_wall = time.time()

        def between(i: int) -> None:
            if label == "switch" and i == 0 and len(held) > 1:
                pause("switch-partial")

        t_rel = time.monotonic()
        release(held, between, close=False)
        confirmed, why_not = self._confirm(held, t_rel + deadline_s - min(0.3, deadline_s / 4), label)
        if why_not:
            for h in held:
                h.abandon()
            # the nodes' watchdogs revert at their deadline: wait for them before anything else
            time.sleep(max(0.0, t_rel + deadline_s + 1.0 - time.monotonic()))
        done = [h.finish(WRITE_TIMEOUT if not why_not else 3.0) for h in held]
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
        from hadoctor.fix.observe import split_for_window

        if label == "switch":
            o.window_ms = split_for_window(marks)
            sent = [h.sent_at for h in held if h.sent_at]
            o.release_spread_ms = round((max(sent) - min(sent)) * 1000.0, 2) if sent else None
        o.confirmed[label] = confirmed
        self.step(label, t_rel, window_ms=split_for_window(marks), confirmed=confirmed)
        if why_not:
            return False, why_not + (f" ({'; '.join(bad)})" if bad else "")
        if bad:
            return False, "; ".join(bad)
        return True, ""

    def _confirm(self, held, limit: float, label: str) -> Tuple[List[str], str]:
        """Wait (until ``limit``, monotonic) for every node to say it switched, then confirm the remote
        nodes, and the local one only once they all acknowledged (hadoctor dying in between leaves the
        local node to revert: docs/fix-authkeys.md#commit-confirmed). Returns the confirmed nodes and,
        when not all are, why."""
        late = [h.node for h in held if h.wait_line(b"switched=yes", limit) is not True]
        if late:
            return [], (f"{', '.join(late)} did not say it switched within the revert deadline: "
                        "nothing was confirmed, every switched node reverts by itself")
        if label == "switch":
            pause("switch-unconfirmed")
        remote = [h for h in held if h.node != self.local]
        local = [h for h in held if h.node == self.local]
        confirmed: List[str] = []
        for group in (remote, local):
            if not group:
                continue
            for h in group:
                h.send_confirm()
            acks = {h.node: h.wait_line(b"confirmed=yes", limit) for h in group}
            confirmed += [n for n, v in acks.items() if v is True]
            missing = [n for n, v in acks.items() if v is not True]
            if missing:
                return confirmed, (f"no confirmation acknowledged by {', '.join(missing)} within the revert "
                                   f"deadline (confirmed: {', '.join(confirmed) or 'none'})")
            if group is remote and local and label == "switch":
                pause("confirm-partial")
        return confirmed, ""

    def switch_one_by_one(self, names: Sequence[str]) -> Tuple[bool, str]:
        o = self.report
        self.start_watch()
        self.release_wall = time.time()
        t = time.monotonic()
        for i, name in enumerate(names):
            info = self.infos[name]
            self.settle([name])
            r = info.shell.run(nodescript.apply_script(
                self.opts.root, self.plan.files[name]["switched"], journal_before=self._journal(name, "switching"),
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
                pause("switch-partial")
        self.switch_done_wall = time.time()
        self.step("switch (node by node)", t)
        return True, ""

    def start_watch(self) -> None:
        ok, why = self.capture_possible(self.local)
        self.watch = None
        if not ok:
            self.report.wire_note = f"wire check skipped: {why}"
            return
        from hadoctor.fix.observe import WireWatch
        from hadoctor.parsers.authkeys import parse_authkeys

        info = self.infos[self.local]
        model = parse_authkeys(self.plan.files[self.local]["switched"], "switched")
        self.watch = WireWatch(ports(info), self.report.nodes, seconds=60.0, model=model,
                               new_index=self.plan.new.index).start()

    def confirm_switch(self, names: Sequence[str]) -> Tuple[bool, str]:
        """Wire + logs + cl_status after the switch; (ok, why not)."""
        from hadoctor.fix.session import run_all
        from hadoctor.fix.observe import LogCounts

        o = self.report
        t = time.monotonic()
        keepalive = max(keepalive_s(i) for i in self.infos.values())
        settle = keepalive + 0.5
        time.sleep(max(0.0, self.switch_done_wall + settle - time.time()))
        # first slice: the switch window itself (failures here are counted, not fatal)
        window = self._log_slices(names)
        observe = max(2.0, 2 * keepalive)
        time.sleep(observe)
        after = self._log_slices(names)
        restarts = self._restarts_since_staging(names)
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
                                     "restarts": restarts.get(name, 0),
                                     "dead": total.dead, "partition": total.partition}
            if w is None and a is None:
                o.warnings.append(f"{name}: log not read ({self.infos[name].log_path or 'no logfile in ha.cf'})")
            if w is not None and not total.rereads:
                problems.append(f"{name}: heartbeat did not log 'Rereading authentication file' after the switch")
            if total.dead:
                problems.append(f"{name} logged node(s) {', '.join(total.dead)} dead")
            if total.partition:
                problems.append(f"{name} logged {', '.join(total.partition)} returning after partition")
            if restarts.get(name):
                problems.append(f"{name}: heartbeat restarted during the rotation ({restarts[name]} 'Performing "
                                "heartbeat restart exec' line(s): its ha.cf had changed) instead of rereading "
                                "authkeys")
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
            info = node_state(self.infos[name].shell, out, self.opts.root)
            if not info.running:
                problems.append(f"{name}: heartbeat is not running")
            for peer in names:
                state = info.peers.get(peer)
                if out.get("cl_status") and (state or "").lower() not in ("active", "up"):
                    problems.append(f"{name} sees {peer} as {state!r}")
            active = info.old_key
            if active is None or active.index != self.plan.new.index or active.key != self.plan.new.secret:
                problems.append(f"{name}: the live authkeys does not sign with the new key")
        self.step("verify", t, auth_failures={n: v["in_window"] for n, v in o.auth_failures.items()})
        return (not problems), "; ".join(problems)

    def _restarts_since_staging(self, names: Sequence[str]) -> Dict[str, int]:
        """Restart execs in each node's log since its staging reload (a restart there precedes the switch
        window the log slices cover)."""
        from hadoctor.fix.observe import log_counts
        from hadoctor.fix.session import run_all

        todo = [n for n in names if self.infos[n].log_path and self.infos[n].stage_log_offset is not None]
        jobs = [(self.infos[n].shell, nodescript.log_tail_script(self.infos[n].log_path,
                                                                 self.infos[n].stage_log_offset)) for n in todo]
        out = {}
        for name, r in zip(todo, run_all(jobs, INSPECT_TIMEOUT) if jobs else []):
            parsed = parse_output(r.stdout)
            if r.ok and "log" in parsed.files:
                out[name] = log_counts(parsed.files["log"], self.infos[name].log_path).restarts
        return out

    def _log_slices(self, names: Sequence[str]):
        from hadoctor.fix.session import run_all
        from hadoctor.fix.observe import log_counts

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

    def finalize(self, names: Sequence[str]) -> RotationReport:
        o = self.report
        t = time.monotonic()
        self.settle(names)
        for i, name in enumerate(names):
            info = self.infos[name]
            r = info.shell.run(nodescript.apply_script(
                self.opts.root, self.plan.files[name]["final"], journal_before=self._journal(name, "finalizing"),
                journal_after=self._journal(name, "done")), timeout=WRITE_TIMEOUT)
            out = parse_output(r.stdout)
            if not (r.ok and out.ok):
                # the switched file (both keys, new active) stays: working, just not final
                o.exit_code = EXIT_ATTENTION
                o.message = (f"rotated, but removing the old key on {name} failed: {out.get('reason') or r.reason}; "
                             "run again to finish")
                return self.done(o)
            if i == 0 and len(names) > 1:
                pause("final-partial")
        self.step("final", t)
        new = self.plan.new
        o.fingerprints = {n: key_fp(self.plan.salt, new.method, new.secret) for n in names}
        o.message = f"rotated: every node signs with key {new.index} (old key removed)"
        return self.done(o)

    def done(self, o: RotationReport) -> RotationReport:
        o.duration_s = round(time.monotonic() - self.t0, 2)
        return o

    # ----- failure: every node back to its backup
    def fail_and_rollback(self, names: Sequence[str], why: str, switched: bool) -> RotationReport:
        o = self.report
        self.progress.error(why)
        if self.watch is not None:
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
    def recover(self, unfinished: Dict[str, dict]) -> RotationReport:
        o = self.report
        o.action = "recover"
        runs = {j.get("run") for j in unfinished.values()}
        if len(runs) != 1:
            raise Attention(f"journals of different runs on the nodes ({sorted(map(str, runs))}): "
                            "restore the backups by hand", "see docs/fix-authkeys.md")
        self.plan, states = Plan.from_journal(next(iter(unfinished.values())), self.infos)
        run_id = self.plan.run_id
        o.procedure = self.plan.procedure
        self.progress.step(f"an interrupted rotation (run {run_id}) left journals on "
                           f"{', '.join(sorted(unfinished))}: recovering")
        for name, info in self.infos.items():
            # only this run's journal names a backup to restore; a node whose journal is from an
            # earlier (finished) run was not touched by the interrupted one
            mine = info.journal is not None and info.journal.get("run") == run_id
            info.backup = info.journal.get("backup") if mine else None
            if not mine:
                info.journal = None
            if info.backup and "@" not in info.backup:
                o.backups[name] = info.backup
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
        if "new" in states.values() and self.plan.new is not None:
            # some node already signs with the new key: complete forward
            o.new_index = self.plan.new.index
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
            ok, why = self.confirm_switch(names)
            if not ok:
                return self.fail_and_rollback_recovery(names, f"verification failed: {why}")
            self.report.action = "recover"
            out = self.finalize(names)
            if out.exit_code == EXIT_ROTATED:
                out.message = "the interrupted rotation was completed: " + out.message
            self._cleanup(names)
            return out
        return self.fail_and_rollback_recovery(names, "the interrupted rotation had not switched any node")

    def confirm_recovery(self, states: Dict[str, str]) -> None:
        if self.opts.yes:
            return
        if not sys.stdin.isatty():
            raise UsageError("confirmation needed to recover the interrupted rotation",
                             "run with --yes (see --dry-run for what it would do)")
        answer = input(f"Recover the interrupted rotation ({', '.join(f'{n}: {s}' for n, s in states.items())})? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise Refused("not confirmed: nothing was changed")

    def fail_and_rollback_recovery(self, names: Sequence[str], why: str) -> RotationReport:
        """Roll back to the backups this run's journals name (read from the nodes)."""
        o = self.report
        extra = {n: [self.infos[n].backup] for n in names if self.infos[n].backup and "@" not in self.infos[n].backup}
        contents: Dict[str, bytes] = {}
        if extra:
            results = inspect([self.infos[n].shell for n in extra], self.opts.root, extra)
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
                journal = self.plan.journal(n, state, self.infos[n].backup or "")
            jobs.append((self.infos[n].shell, nodescript.cleanup_script(self.opts.root, journal)))
        run_all(jobs, WRITE_TIMEOUT)
