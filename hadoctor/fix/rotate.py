"""``hadoctor fix --authkeys``: rotate heartbeat's cluster key without a failover (docs/fix-authkeys.md).

plan (read every node, refuse an unhealthy cluster) → confirm → stage (backup, old key still
active, new key listed) → switch (netstring: every node at once over held connections; classic:
node by node) → verify (wire + logs + cl_status) → final file (old key removed); any failure after
the first change rolls every node back to its backup. A journal on every node lets a re-run after
a crash complete the rotation (some node already signs with the new key) or roll it back.

This module runs the procedure (:func:`rotate`); its steps live beside it, plain functions of the
run's shared record (:mod:`~hadoctor.fix.run`): :mod:`~hadoctor.fix.switch`, :mod:`~hadoctor.fix.verify`,
:mod:`~hadoctor.fix.finish`, :mod:`~hadoctor.fix.recovery`; and its parts: :mod:`~hadoctor.fix.model` (options, exit
codes, the report), :mod:`~hadoctor.fix.inspect` (reading the nodes), :mod:`~hadoctor.fix.health`
(when to refuse), :mod:`~hadoctor.fix.plan` (the frozen plan, new or from the journal),
:mod:`~hadoctor.fix.keyfile` (the files), :mod:`~hadoctor.fix.nodescript` and
:mod:`~hadoctor.fix.session` (the scripts on the nodes), :mod:`~hadoctor.fix.observe` (the wire and
log observations).
"""

from __future__ import annotations

import sys
import time
from typing import List

from hadoctor.errors import UsageError
from hadoctor.fix import finish, nodescript, recovery, switch, verify
from hadoctor.fix.health import health_problems
from hadoctor.fix.inspect import keepalive_s, ports, read_marks, read_nodes, running_params, shells_for
from hadoctor.fix.model import EXIT_REFUSED, Refused, RotationReport, pause
from hadoctor.fix.nodescript import parse_output
from hadoctor.fix.plan import Plan, describe
from hadoctor.fix.run import ACTIVE_STATES, WRITE_TIMEOUT, Run


def rotate(run: Run) -> RotationReport:
    opts, progress, o = run.opts, run.progress, run.report
    shells, run.local = shells_for(opts)
    o.nodes = [s.node for s in shells]
    infos = run.infos = read_nodes(shells, opts.root, progress)
    pending = [(n, i.revert_pending_s) for n, i in infos.items() if i.revert_pending_s is not None]
    wait = max((s for _, s in pending), default=0.0)
    if wait > 0:
        # an interrupted switch's watchdogs decide first; then the live files tell what they did
        progress.step(f"the revert of an unconfirmed switch is armed on {', '.join(n for n, _ in pending)}: "
                      f"waiting {wait:.0f} s for it")
        time.sleep(min(wait + 0.5, 60.0))
        infos = run.infos = read_nodes(shells, opts.root, progress)
    unfinished = {n: i.journal for n, i in infos.items()
                  if i.journal is not None and i.journal.get("state") in ACTIVE_STATES}
    if unfinished:
        return recovery.recover(run, unfinished)
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
    choose_procedure(run)
    make_plan(run)
    if opts.dry_run:
        o.action = "dry-run"
        o.message = "dry run: nothing was changed"
        return o
    confirm(run)
    pause("planned")
    return execute(run)


def choose_procedure(run: Run) -> None:
    o = run.report
    ok, why = run.capture_possible(run.local)
    fmt = None
    if ok:
        from hadoctor.fix.observe import WireWatch

        t = time.monotonic()
        info = run.infos[run.local]
        watch = WireWatch(ports(info), o.nodes, seconds=max(2.5, 2.5 * keepalive_s(info)),
                          stop_when_all_heard=True).start().join()
        fmt = watch.wire_format()
        run.step("wire-format", t, heard=sorted(watch.senders), format=fmt)
        if watch.error:
            why = watch.error
        elif fmt is None:
            why = "no heartbeat packet heard"
    if fmt is not None:
        o.procedure = fmt
        o.procedure_reason = f"{fmt} packets seen on the wire"
        return
    from hadoctor.fix.observe import glue_is_netstring

    versions = {n: i.out.get("glue") or "" for n, i in run.infos.items()}
    verdicts = {n: glue_is_netstring(v) for n, v in versions.items()}
    if verdicts and all(v is False for v in verdicts.values()):
        o.procedure, o.procedure_reason = "classic", f"cluster-glue < 1.0.10 on every node ({versions}); {why}"
    else:
        o.procedure = "netstring"
        o.procedure_reason = (f"cluster-glue versions {versions} ({'>= 1.0.10 sends netstring' if any(verdicts.values()) else 'unknown: the all-at-once switch is safe for both formats'}); "
                              f"wire not observed: {why}")


def make_plan(run: Run) -> None:
    o = run.report
    run.plan = plan = Plan.make(run.infos, o.nodes, o.procedure)
    o.new_index, o.old_index = plan.new.index, plan.old_index
    o.plan, o.diff = describe(plan, run.infos, o.nodes, run.local, o.procedure_reason, run.opts.root)


def confirm(run: Run) -> None:
    if run.opts.yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("confirmation needed: standard input is not a terminal",
                         "look at the plan with --dry-run, then run with --yes")
    from hadoctor.terminal import visible

    show_plan(run)
    answer = input(f"Rotate the authkeys of {visible(', '.join(run.report.nodes))} now? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise Refused("not confirmed: nothing was changed")


def show_plan(run: Run) -> None:
    from hadoctor.terminal import visible

    c = run.progress.console
    for line in run.report.plan:
        c.print(visible(line), markup=False)
    for node, diff in run.report.diff.items():
        c.print(f"--- {visible(node)}", markup=False)
        for line in diff:
            c.print(visible(line), markup=False)


def execute(run: Run) -> RotationReport:
    o = run.report
    names = list(run.infos)
    run.seed_last_reload()
    run.settle(names)
    # 1+2: backup and stage, node by node (harmless on the wire: the old key still signs)
    t = time.monotonic()
    staged: List[str] = []
    for i, name in enumerate(names):
        info = run.infos[name]
        script = nodescript.apply_script(run.opts.root, run.plan.files[name]["staged"],
                                         journal_before=run.journal(name, "staging", "@BACKUP@"),
                                         journal_after=run.journal(name, "staged", "@BACKUP@"),
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
            return finish.fail_and_rollback(run, staged, f"staging on {name} failed: {why}", switched=False)
        staged.append(name)
        run.last_reload[name] = time.time()
        if i == 0 and len(names) > 1:
            pause("stage-partial")
    run.step("backup+stage", t, backups=o.backups)
    pause("staged")
    if o.procedure == "classic":
        ok, why = switch.one_by_one(run, names)
    else:
        ok, why = switch.together(run, names, "switched", "switch")
    if not ok:
        return finish.fail_and_rollback(run, names, why, switched=True)
    pause("switched")
    ok, why = verify.verify_switch(run, names)
    if not ok:
        return finish.fail_and_rollback(run, names, f"verification failed: {why}", switched=True)
    pause("verified")
    return finish.finalize(run, names)
