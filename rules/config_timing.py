"""Timing directives: what heartbeat refuses and what long-standing admin advice warns about."""

from __future__ import annotations

from hadoctor.parsers.hacf import BAD_TIME
from hadoctor.parsers.timespec import format_ms
from hadoctor.rulekit import Doc, at, fail, rule


def _ev(node, setting, expected=None):
    hacf = node.ha_cf
    if setting.explicit:
        return at(node, hacf.path, setting.line, f"{setting.name} {setting.text}", observed=format_ms(setting.value),
                  expected=expected)
    return at(node, hacf.path, 0, f"{setting.name} not set: default {setting.text}",
              observed=format_ms(setting.value), expected=expected)


@rule("CFG101", "deadtime must be more than twice keepalive", severity="error", needs=("ha_cf",), doc=Doc(
    meaning="heartbeat checks deadtime > 2 x keepalive at start and refuses otherwise ('Dead time [..] is too "
            "small compared to keeplive [..]').",
    why="heartbeat does not start on this node.",
    fix="Raise deadtime (typical: keepalive 1, warntime 5, deadtime 10) on both nodes.",
))
def deadtime_vs_keepalive(node):
    h = node.ha_cf
    if h.deadtime.value <= 2 * h.keepalive.value:
        yield fail(f"deadtime {format_ms(h.deadtime.value)} is not more than 2 x keepalive "
                   f"{format_ms(h.keepalive.value)}: heartbeat refuses to start",
                   [_ev(node, h.deadtime, f"> {format_ms(2 * h.keepalive.value)}"), _ev(node, h.keepalive)])


@rule("CFG102", "initdead must not be smaller than deadtime", severity="error", needs=("ha_cf",), doc=Doc(
    meaning="heartbeat refuses an initdead below deadtime ('Initial dead time [..] is smaller than deadtime').",
    why="heartbeat does not start on this node.",
    fix="Set initdead to at least twice deadtime (and at least 10 s), or drop it to get heartbeat's default.",
))
def initdead_vs_deadtime(node):
    h = node.ha_cf
    if h.initdead.value < h.deadtime.value:
        yield fail(f"initdead {format_ms(h.initdead.value)} < deadtime {format_ms(h.deadtime.value)}: heartbeat "
                   f"refuses to start", [_ev(node, h.initdead, f">= {format_ms(h.deadtime.value)}"),
                                         _ev(node, h.deadtime)])


@rule("CFG103", "initdead is short: the peer may be declared dead at boot", severity="warning",
      needs=("ha_cf",), doc=Doc(
    meaning="initdead is how long heartbeat waits for the peer after it starts. heartbeat warns below 10 s "
            "('Initial dead time [..] may be too small!'); the sample ha.cf recommends at least twice deadtime.",
    why="Networks and switches (spanning tree) take a while to come up; a short initdead makes a booting node "
        "declare its peer dead and take every resource.",
    fix="initdead >= 2 x deadtime and >= 10 s (e.g. deadtime 10, initdead 30).",
))
def initdead_short(node):
    h = node.ha_cf
    init, dead = h.initdead.value, h.deadtime.value
    if init < dead:
        return  # CFG102
    reasons = []
    if init < 10000:
        reasons.append("under 10 s (heartbeat itself warns)")
    if init < 2 * dead:
        reasons.append(f"under 2 x deadtime ({format_ms(2 * dead)})")
    if reasons:
        yield fail(f"initdead {format_ms(init)} is " + " and ".join(reasons),
                   [_ev(node, h.initdead, f">= {format_ms(max(10000, 2 * dead))}"), _ev(node, h.deadtime)])


@rule("CFG104", "warntime should lie between keepalive and deadtime", severity="warning", needs=("ha_cf",),
      doc=Doc(
    meaning="An interval longer than warntime logs a 'Late heartbeat' warning; longer than deadtime declares "
            "the node dead. heartbeat does not check warntime itself.",
    why="With warntime >= deadtime the warning never comes before the failover; with warntime <= keepalive "
        "every heartbeat is late.",
    fix="Set keepalive < warntime < deadtime, e.g. keepalive 1, warntime 5, deadtime 10.",
))
def warntime_between(node):
    h = node.ha_cf
    warn, dead, keep = h.warntime.value, h.deadtime.value, h.keepalive.value
    if not keep < warn < dead:
        where = "not below deadtime" if warn >= dead else "not above keepalive"
        yield fail(f"warntime {format_ms(warn)} is {where} (keepalive {format_ms(keep)}, deadtime "
                   f"{format_ms(dead)})", [_ev(node, h.warntime, f"between {format_ms(keep)} and {format_ms(dead)}")])


@rule("CFG105", "timings are very aggressive", severity="warning", needs=("ha_cf",), doc=Doc(
    meaning="deadtime leaves little room: under 3 keepalives, or under 5 seconds.",
    why="A single lost packet or a short stall (GC, I/O, VM pause) declares the peer dead: false failovers "
        "and split brain.",
    fix="keepalive 1-2 s, deadtime at least 10 s on most networks; lower only with measured intervals (LOG012).",
))
def aggressive_timings(node):
    h = node.ha_cf
    dead, keep = h.deadtime.value, h.keepalive.value
    if dead <= 2 * keep:
        return  # CFG101
    reasons = []
    if dead < 3 * keep:
        reasons.append(f"only {dead / keep:g} keepalives")
    if dead < 5000:
        reasons.append("under 5 s")
    if reasons:
        yield fail(f"deadtime {format_ms(dead)} with keepalive {format_ms(keep)}: " + ", ".join(reasons),
                   [_ev(node, h.deadtime), _ev(node, h.keepalive)])


@rule("CFG106", "a timing value is not in heartbeat's syntax (e.g. 30s)", severity="error", needs=("ha_cf",),
      doc=Doc(
    meaning="heartbeat reads times as N (seconds, decimals allowed), Nms or Nus. '30s', '1m' or '30 ms' (two "
            "tokens) are invalid; heartbeat aborts with only 'Configuration error, heartbeat not started'.",
    why="heartbeat does not start, and its log does not say which line is wrong.",
    fix="Write seconds without a unit (deadtime 30) or milliseconds with ms (keepalive 500ms).",
))
def timing_syntax(node):
    bad = [p for p in node.ha_cf.problems if p.code == BAD_TIME]
    if bad:
        yield fail("; ".join(p.message for p in bad[:3]),
                   [at(node, p.file, p.line, p.text, observed=p.message) for p in bad])

