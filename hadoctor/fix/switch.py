"""The switch of ``fix --authkeys``: every node's authkeys changes its active key.

Netstring wire (:func:`together`): every node holds the file ready over an open connection, one ``go``
line each releases them back to back, and the switch is committed only when confirmed (each node
reverts by itself at its deadline unless hadoctor confirms after every node said it switched:
docs/fix-authkeys.md#commit-confirmed). Rollbacks to the backups switch the same way. Classic wire
(:func:`one_by_one`): every listed key verifies, so node by node.
"""

from __future__ import annotations

import time
from typing import Dict, List, Optional, Sequence, Tuple

from hadoctor.fix import nodescript
from hadoctor.fix.inspect import ports
from hadoctor.fix.model import pause
from hadoctor.fix.nodescript import parse_output
from hadoctor.fix.run import WRITE_TIMEOUT, Run

#: a go arriving this many seconds after the node got ready switches nothing (a line a healed connection
#: delivers late); hadoctor releases within a few seconds of the first ready or not at all
STALE_GO_S = 10
#: the switch window (first rename to last reload) is ~40 ms quiet, longer on a loaded node: release
#: when no heartbeat is due for this long (or a share of keepalive with many nodes)
QUIET_S = 0.4
#: and no sooner than this after the latest heartbeat (still queued in its receiver on a busy node)
AFTER_PACKET_S = 0.1
#: netstring rejections (plain text in the catalogue, so valid EREs as they stand)
REJECT_MESSAGES = ("glue.authtoken_mismatch", "glue.netstring_auth_failed")


def revert_deadline(run: Run) -> float:
    """How long a switched node waits for the confirmation before it reverts by itself: half of
    min(warntime, deadtime) (docs/fix-authkeys.md#commit-confirmed), at least 0.5 s."""
    limits = []
    for info in run.infos.values():
        try:
            limits.append(min(info.hacf.warntime.value, info.hacf.deadtime.value) / 1000.0)
        except (AttributeError, TypeError):
            continue
    return round(max(0.5, min(limits, default=10.0) / 2.0), 3)


def confirm_watch(run: Run) -> float:
    """How long past the deadline a confirmed node reads its log for a peer's rejected packet: one
    keepalive (the reverted peer's next heartbeat) + 0.5 s (docs/fix-authkeys.md#commit-confirmed)."""
    return round(run.keepalive_max() + 0.5, 3)


def reject_marks() -> Tuple[str, ...]:
    """The lines a node's heartbeat logs for a packet signed with another key than its active one
    (the catalogue's messages, as POSIX EREs for the node's grep)."""
    from hadoctor.catalogue import pattern

    return tuple(pattern(n) for n in REJECT_MESSAGES)


def together(run: Run, names: Sequence[str], stage: str, label: str,
             contents: Optional[Dict[str, bytes]] = None) -> Tuple[bool, str]:
    """Prepare the file on every node over held connections, release them together, and confirm
    once every node said it switched (commit confirmed: a node not confirmed within the revert
    deadline puts its previous file back by itself)."""
    from hadoctor.fix.session import hold_all, release

    o = run.report
    if label == "switch":
        start_watch(run)          # early: the packets heard until the release time it (quiet_release)
    # settle first: the go must follow the ready closely (a late go switches nothing)
    run.settle(names)
    t = time.monotonic()
    deadline_s = revert_deadline(run)
    o.revert_deadline_s = deadline_s
    watch_s = confirm_watch(run)
    jobs = []
    # the local node last: its release has no network hop, so the nodes reload closer together
    names = sorted(names, key=lambda n: n == run.local)
    for name in names:
        info = run.infos[name]
        content = contents[name] if contents else run.plan.files[name][stage]
        state = {"switched": "switched", "restored": "rolled-back"}.get(stage, stage)
        before = {"switched": "switching", "restored": "rolling-back"}.get(stage, stage)
        wd = nodescript.Watchdog(deadline_s, STALE_GO_S, run.journal(name, "reverted"), watch_s=watch_s,
                                 log_path=info.log_path, reject_marks=reject_marks())
        jobs.append((info.shell, nodescript.apply_script(
            run.opts.root, content, journal_before=run.journal(name, before),
            journal_after=run.journal(name, state), hold=True, log_path=info.log_path, watchdog=wd)))
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
    run.step(f"{label}-ready", t)
    if label == "switch":
        pause("switch-ready")
        quiet_release(run, names)
    run.release_wall = time.time()

    def between(i: int) -> None:
        if label == "switch" and i == 0 and len(held) > 1:
            pause("switch-partial")

    t_rel = time.monotonic()
    release(held, between, close=False)
    confirmed, why_not = _confirm(run, held, t_rel + deadline_s - min(0.3, deadline_s / 4), label)
    if why_not:
        for h in held:
            h.abandon()
        # the nodes' watchdogs revert at their deadline (a confirmed one after its watch): wait for them
        time.sleep(max(0.0, t_rel + deadline_s + watch_s + 1.0 - time.monotonic()))
    else:
        run.watchdogs_until = t_rel + deadline_s + watch_s + 0.5
    done = [h.finish(WRITE_TIMEOUT if not why_not else 3.0) for h in held]
    run.switch_done_wall = time.time()
    for d in done:
        run.last_reload[d.node] = run.switch_done_wall
    marks = []
    bad = []
    for d in done:
        info = run.infos[d.node]
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
    run.step(label, t_rel, window_ms=split_for_window(marks), confirmed=confirmed)
    if why_not:
        return False, why_not + (f" ({'; '.join(bad)})" if bad else "")
    if bad:
        return False, "; ".join(bad)
    return True, ""


def quiet_release(run: Run, names: Sequence[str]) -> None:
    """Wait (at most two keepalives) for a moment no node is about to send a heartbeat, so no packet
    signed with one key meets a node already on the other inside the switch window: when a node's send
    is due within the quiet span, wait until the capture has *seen* that packet (its timer jitters), then
    ask again (observe.next_quiet); never within AFTER_PACKET_S of the latest packet. Needs the capture."""
    from hadoctor.fix.observe import next_quiet

    if run.watch is None:
        return
    keepalive = run.keepalive_max()
    quiet = min(QUIET_S, keepalive / (len(names) + 1))
    t0 = time.monotonic()
    end = t0 + 2 * keepalive
    while time.monotonic() < end:
        seen = run.watch.last_seen()
        # a heartbeat sent a moment ago may still wait in its receiver's queue: verified after that
        # node's reload, it would fail; so not right after a packet either
        recent = time.time() - max(seen.values(), default=0.0)
        if recent < AFTER_PACKET_S:
            time.sleep(AFTER_PACKET_S - recent)
            continue
        node = next_quiet(seen, names, keepalive, time.time(), quiet)
        if not node:
            break
        before = seen[node]
        until = min(end, time.monotonic() + keepalive)
        while time.monotonic() < until and run.watch.last_seen().get(node) == before:
            time.sleep(0.002)
    else:
        node = None
    run.report.release_delay_ms = round((time.monotonic() - t0) * 1000.0, 1) if node == "" else None


def _confirm(run: Run, held, limit: float, label: str) -> Tuple[List[str], str]:
    """Wait (until ``limit``, monotonic) for every node to say it switched, then confirm the remote
    nodes, and the local one only once they all acknowledged (hadoctor dying in between leaves the
    local node to revert, and the confirmed ones follow it: docs/fix-authkeys.md#commit-confirmed).
    Returns the confirmed nodes and, when not all are, why."""
    late = [h.node for h in held if h.wait_line(b"switched=yes", limit) is not True]
    if late:
        return [], (f"{', '.join(late)} did not say it switched within the revert deadline: "
                    "nothing was confirmed, every switched node reverts by itself")
    if label == "switch":
        pause("switch-unconfirmed")
    remote = [h for h in held if h.node != run.local]
    local = [h for h in held if h.node == run.local]
    confirmed: List[str] = []
    for group in (remote, local):
        if not group:
            continue
        for h in group:
            h.send_confirm()
        if group is remote and label == "switch":
            pause("confirm-sent")
        acks = {h.node: h.wait_line(b"confirmed=yes", limit) for h in group}
        confirmed += [n for n, v in acks.items() if v is True]
        missing = [n for n, v in acks.items() if v is not True]
        if missing:
            return confirmed, (f"no confirmation acknowledged by {', '.join(missing)} within the revert "
                               f"deadline (confirmed: {', '.join(confirmed) or 'none'})")
        if group is remote and local and label == "switch":
            pause("confirm-partial")
    return confirmed, ""


def one_by_one(run: Run, names: Sequence[str]) -> Tuple[bool, str]:
    o = run.report
    start_watch(run)
    run.release_wall = time.time()
    t = time.monotonic()
    for i, name in enumerate(names):
        info = run.infos[name]
        run.settle([name])
        r = info.shell.run(nodescript.apply_script(
            run.opts.root, run.plan.files[name]["switched"], journal_before=run.journal(name, "switching"),
            journal_after=run.journal(name, "switched"), log_path=info.log_path), timeout=WRITE_TIMEOUT)
        out = parse_output(r.stdout)
        run.last_reload[name] = time.time()
        if out.get("log_size") is not None:
            info.log_offset = int(out.get("log_size"))
        o.switch_marks[name] = {"t_start": out.get("t_start"), "t_done": out.get("t_done"),
                                "reload_rc": out.get("reload_rc")}
        if not (r.ok and out.ok):
            return False, f"{name}: {out.get('reason') or r.reason}"
        if i == 0 and len(names) > 1:
            pause("switch-partial")
    run.switch_done_wall = time.time()
    run.step("switch (node by node)", t)
    return True, ""


def start_watch(run: Run) -> None:
    ok, why = run.capture_possible(run.local)
    run.watch = None
    if not ok:
        run.report.wire_note = f"wire check skipped: {why}"
        return
    from hadoctor.fix.observe import WireWatch
    from hadoctor.parsers.authkeys import parse_authkeys

    info = run.infos[run.local]
    model = parse_authkeys(run.plan.files[run.local]["switched"], "switched")
    run.watch = WireWatch(ports(info), run.report.nodes, seconds=60.0, model=model,
                           new_index=run.plan.new.index).start()
