"""Is the switch good? The packets captured here, every node's log since the switch (read with
hadoctor's log parser: rereads, authentication failures during and after the switch window, dead
nodes, partitions, restarts) and every node's own view (``cl_status``, the live file)."""

from __future__ import annotations

import time
from typing import Dict, Sequence, Tuple

from hadoctor.fix import nodescript
from hadoctor.fix.inspect import INSPECT_TIMEOUT, keepalive_s, node_state
from hadoctor.fix.nodescript import parse_output
from hadoctor.fix.run import Run


def verify_switch(run: Run, names: Sequence[str]) -> Tuple[bool, str]:
    """Wire + logs + cl_status after the switch; (ok, why not)."""
    from hadoctor.fix.session import run_all
    from hadoctor.fix.observe import LogCounts

    o = run.report
    t = time.monotonic()
    keepalive = max(keepalive_s(i) for i in run.infos.values())
    settle = keepalive + 0.5
    time.sleep(max(0.0, run.switch_done_wall + settle - time.time()))
    # first slice: the switch window itself (failures here are counted, not fatal)
    window = log_slices(run, names)
    observe = max(2.0, 2 * keepalive)
    time.sleep(observe)
    after = log_slices(run, names)
    restarts = restarts_since_staging(run, names)
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
            o.warnings.append(f"{name}: log not read ({run.infos[name].log_path or 'no logfile in ha.cf'})")
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
    if run.watch is not None:
        run.watch.stop()
        run.watch.join(2)
        end = run.switch_done_wall + 0.3
        for name in names:
            seen = run.watch.senders.get(name)
            o.wire[name] = seen.to_dict() if seen else {"packets": 0}
            if seen is None or not seen.verified_new:
                problems.append(f"no heartbeat from {name} signed with the new key was captured here")
            elif seen.failed_new:
                problems.append(f"{seen.failed_new} packet(s) from {name} at the new index do not verify")
            elif seen.last_old is not None and seen.last_old > end:
                problems.append(f"{name} still signs with the old key after the switch")
        if run.watch.error:
            o.wire_note = f"wire check failed: {run.watch.error}"
            problems.append(o.wire_note)
    run.wait_watchdogs()
    # every node active, from every node
    results = run_all([(run.infos[n].shell, nodescript.inspect_script(run.opts.root)) for n in names],
                      INSPECT_TIMEOUT)
    for name, r in zip(names, results):
        out = parse_output(r.stdout)
        if not r.ok:
            problems.append(f"{name}: cannot read it after the switch: {r.reason}")
            continue
        info = node_state(run.infos[name].shell, out, run.opts.root)
        if not info.running:
            problems.append(f"{name}: heartbeat is not running")
        for peer in names:
            state = info.peers.get(peer)
            if out.get("cl_status") and (state or "").lower() not in ("active", "up"):
                problems.append(f"{name} sees {peer} as {state!r}")
        active = info.old_key
        if active is None or active.index != run.plan.new.index or active.key != run.plan.new.secret:
            problems.append(f"{name}: the live authkeys does not sign with the new key")
    run.step("verify", t, auth_failures={n: v["in_window"] for n, v in o.auth_failures.items()})
    return (not problems), "; ".join(problems)


def restarts_since_staging(run: Run, names: Sequence[str]) -> Dict[str, int]:
    """Restart execs in each node's log since its staging reload (a restart there precedes the switch
    window the log slices cover)."""
    from hadoctor.fix.observe import log_counts
    from hadoctor.fix.session import run_all

    todo = [n for n in names if run.infos[n].log_path and run.infos[n].stage_log_offset is not None]
    jobs = [(run.infos[n].shell, nodescript.log_tail_script(run.infos[n].log_path,
                                                             run.infos[n].stage_log_offset)) for n in todo]
    out = {}
    for name, r in zip(todo, run_all(jobs, INSPECT_TIMEOUT) if jobs else []):
        parsed = parse_output(r.stdout)
        if r.ok and "log" in parsed.files:
            out[name] = log_counts(parsed.files["log"], run.infos[name].log_path).restarts
    return out


def log_slices(run: Run, names: Sequence[str]):
    from hadoctor.fix.session import run_all
    from hadoctor.fix.observe import log_counts

    jobs, which = [], []
    for name in names:
        info = run.infos[name]
        off = info.log_offset
        if info.log_path and off is not None:
            jobs.append((info.shell, nodescript.log_tail_script(info.log_path, off)))
            which.append(name)
    out = {}
    for name, r in zip(which, run_all(jobs, INSPECT_TIMEOUT) if jobs else []):
        parsed = parse_output(r.stdout)
        if r.ok and "log" in parsed.files:
            out[name] = log_counts(parsed.files["log"], run.infos[name].log_path)
            try:
                run.infos[name].log_offset = int(parsed.get("size"))
            except (TypeError, ValueError):
                pass
    return out
