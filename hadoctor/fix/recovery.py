"""A re-run after an interrupted rotation: the journals name the run, the live files say where each
node stands (the watchdogs of an unconfirmed switch have had their say by then); complete forward when
some node signs with the new key, else roll every node back to the backup its journal names."""

from __future__ import annotations

import sys
import time
from typing import Dict, Sequence

from hadoctor.errors import UsageError
from hadoctor.fix import finish, nodescript, switch, verify
from hadoctor.fix.inspect import inspect
from hadoctor.fix.model import EXIT_ATTENTION, EXIT_ROLLED_BACK, EXIT_ROTATED, Attention, Refused, RotationReport
from hadoctor.fix.nodescript import parse_output
from hadoctor.fix.plan import Plan
from hadoctor.fix.run import Run


def recover(run: Run, unfinished: Dict[str, dict]) -> RotationReport:
    o = run.report
    o.action = "recover"
    runs = {j.get("run") for j in unfinished.values()}
    if len(runs) != 1:
        raise Attention(f"journals of different runs on the nodes ({sorted(map(str, runs))}): "
                        "restore the backups by hand", "see docs/fix-authkeys.md")
    run.plan, states = Plan.from_journal(next(iter(unfinished.values())), run.infos)
    run_id = run.plan.run_id
    o.procedure = run.plan.procedure
    run.progress.step(f"an interrupted rotation (run {run_id}) left journals on "
                       f"{', '.join(sorted(unfinished))}: recovering")
    for name, info in run.infos.items():
        # only this run's journal names a backup to restore; a node whose journal is from an
        # earlier (finished) run was not touched by the interrupted one
        mine = info.journal is not None and info.journal.get("run") == run_id
        info.backup = info.journal.get("backup") if mine else None
        if not mine:
            info.journal = None
        if info.backup and "@" not in info.backup:
            o.backups[name] = info.backup
    o.plan = [f"{n}: {s}" for n, s in states.items()]
    run.progress.step("node states: " + ", ".join(o.plan))
    if any(s in ("other", "unreadable") for s in states.values()):
        o.exit_code, o.action = EXIT_ATTENTION, "attention"
        o.message = ("cannot recover automatically: " + ", ".join(f"{n} is {s}" for n, s in states.items()) +
                     f"; backups: {o.backups}; journal /var/lib/heartbeat/{nodescript.JOURNAL_NAME}")
        return run.done(o)
    if run.opts.dry_run:
        o.message = "dry run: would " + ("complete" if "new" in states.values() else "roll back")
        return run.done(o)
    confirm_recovery(run, states)
    names = list(run.infos)
    run.seed_last_reload()
    if "new" in states.values() and run.plan.new is not None:
        # some node already signs with the new key: complete forward
        o.new_index = run.plan.new.index
        lagging = [n for n, s in states.items() if s == "old"]
        if lagging:
            ok, why = switch.together(run, lagging, "switched", "switch")
            if not ok:
                return rollback_from_journal(run, names, why)
        else:
            run.switch_done_wall = time.time()
            for info in run.infos.values():
                info.log_offset = None
        time.sleep(0.2)
        ok, why = verify.verify_switch(run, names)
        if not ok:
            return rollback_from_journal(run, names, f"verification failed: {why}")
        run.report.action = "recover"
        out = finish.finalize(run, names)
        if out.exit_code == EXIT_ROTATED:
            out.message = "the interrupted rotation was completed: " + out.message
        finish.cleanup(run, names)
        return out
    return rollback_from_journal(run, names, "the interrupted rotation had not switched any node")


def confirm_recovery(run: Run, states: Dict[str, str]) -> None:
    if run.opts.yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("confirmation needed to recover the interrupted rotation",
                         "run with --yes (see --dry-run for what it would do)")
    answer = input(f"Recover the interrupted rotation ({', '.join(f'{n}: {s}' for n, s in states.items())})? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise Refused("not confirmed: nothing was changed")


def rollback_from_journal(run: Run, names: Sequence[str], why: str) -> RotationReport:
    """Roll back to the backups this run's journals name (read from the nodes)."""
    o = run.report
    extra = {n: [run.infos[n].backup] for n in names if run.infos[n].backup and "@" not in run.infos[n].backup}
    contents: Dict[str, bytes] = {}
    if extra:
        results = inspect([run.infos[n].shell for n in extra], run.opts.root, extra)
        for n, r in results.items():
            out = parse_output(r.stdout)
            data = out.files.get(f"extra:{run.infos[n].backup}")
            if data is not None:
                contents[n] = data
    missing = [n for n in extra if n not in contents]
    if missing:
        o.exit_code, o.action = EXIT_ATTENTION, "attention"
        o.message = f"{why}; cannot read the backups of {', '.join(missing)}: restore by hand ({o.backups})"
        return run.done(o)
    changed = [n for n, data in contents.items() if data != run.infos[n].authkeys]
    if changed:
        ok, rb_why = finish.restore(run, changed, contents)
        if not ok:
            o.exit_code, o.action = EXIT_ATTENTION, "attention"
            o.message = f"{why}; ROLLBACK FAILED: {rb_why}; backups: {o.backups}"
            return run.done(o)
    for n in names:
        run.infos[n].backup = o.backups.get(n, run.infos[n].backup)
    finish.cleanup(run, names, state="rolled-back")
    o.action, o.exit_code = "rolled-back", EXIT_ROLLED_BACK
    o.message = (f"{why}: rolled back; every node is on its previous authkeys again "
                 f"({', '.join(changed) or 'no file had changed'}); run again to rotate")
    return run.done(o)
