"""How a run ends on the nodes: the final file (old key removed) everywhere, or every node back to its
backup (all together, as a switch), and the leftovers and journals tidied."""

from __future__ import annotations

import time
from typing import Dict, Optional, Sequence, Tuple

from hadoctor.fix import nodescript, switch
from hadoctor.fix.model import EXIT_ATTENTION, EXIT_ROLLED_BACK, RotationReport, pause
from hadoctor.fix.nodescript import parse_output
from hadoctor.fix.plan import key_fp
from hadoctor.fix.run import WRITE_TIMEOUT, Run


def finalize(run: Run, names: Sequence[str]) -> RotationReport:
    o = run.report
    t = time.monotonic()
    run.wait_watchdogs()
    run.settle(names)
    for i, name in enumerate(names):
        info = run.infos[name]
        r = info.shell.run(nodescript.apply_script(
            run.opts.root, run.plan.files[name]["final"], journal_before=run.journal(name, "finalizing"),
            journal_after=run.journal(name, "done")), timeout=WRITE_TIMEOUT)
        out = parse_output(r.stdout)
        if not (r.ok and out.ok):
            # the switched file (both keys, new active) stays: working, just not final
            o.exit_code = EXIT_ATTENTION
            o.message = (f"rotated, but removing the old key on {name} failed: {out.get('reason') or r.reason}; "
                         "run again to finish")
            return run.done(o)
        if i == 0 and len(names) > 1:
            pause("final-partial")
    run.step("final", t)
    new = run.plan.new
    o.fingerprints = {n: key_fp(run.plan.salt, new.method, new.secret) for n in names}
    o.message = f"rotated: every node signs with key {new.index} (old key removed)"
    return run.done(o)


def fail_and_rollback(run: Run, names: Sequence[str], why: str, switched: bool) -> RotationReport:
    o = run.report
    run.progress.error(why)
    if run.watch is not None:
        run.watch.stop()
    if not names:
        o.action, o.exit_code = "rolled-back", EXIT_ROLLED_BACK
        o.message = f"{why}; nothing had been changed"
        return run.done(o)
    contents = {n: run.infos[n].authkeys for n in names}
    ok, rb_why = restore(run, names, contents)
    if ok:
        o.action, o.exit_code = "rolled-back", EXIT_ROLLED_BACK
        o.message = f"{why}; every node is back on its previous authkeys (backups kept: {o.backups})"
    else:
        o.action, o.exit_code = "attention", EXIT_ATTENTION
        o.message = f"{why}; ROLLBACK FAILED: {rb_why}; backups: {o.backups}"
    return run.done(o)


def restore(run: Run, names: Sequence[str], contents: Dict[str, bytes]) -> Tuple[bool, str]:
    """Put ``contents`` (the backups' bytes) back on ``names``, all together (netstring needs it)."""
    t = time.monotonic()
    run.wait_watchdogs()
    ok, why = switch.together(run, names, "restored", "rollback", contents=contents)
    if ok:
        from hadoctor.fix.session import run_all

        run_all([(run.infos[n].shell, nodescript.cleanup_script(run.opts.root)) for n in names],
                WRITE_TIMEOUT)
    run.step("rollback", t, ok=ok)
    return ok, why


def cleanup(run: Run, names: Sequence[str], state: Optional[str] = None) -> None:
    from hadoctor.fix.session import run_all

    jobs = []
    for n in names:
        journal = None
        if state is not None and run.infos[n].journal is not None:
            journal = run.plan.journal(n, state, run.infos[n].backup or "")
        jobs.append((run.infos[n].shell, nodescript.cleanup_script(run.opts.root, journal)))
    run_all(jobs, WRITE_TIMEOUT)
