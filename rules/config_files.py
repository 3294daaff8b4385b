"""What the parsers found wrong in each file: lines heartbeat refuses or reads differently."""

from __future__ import annotations

from hadoctor.parsers.hacf import BAD_TIME
from hadoctor.rulekit import Doc, at, fail, rule


def _problem_evidence(node, problems, limit=8):
    return [at(node, p.file, p.line, p.text or p.message, observed=p.message) for p in problems[:limit]]


def _report(node, problems, what: str):
    """One finding listing ``problems`` (first three in the message, up to eight as evidence)."""
    if problems:
        yield fail(f"{len(problems)} {what}: " + "; ".join(p.message for p in problems[:3]),
                   _problem_evidence(node, problems))


def _of(model, severity: str):
    return [p for p in model.problems if p.severity == severity]


@rule("CFG001", "ha.cf has lines heartbeat refuses", severity="error", needs=("ha_cf",), doc=Doc(
    meaning="heartbeat parses ha.cf line by line and stops at a directive it does not know ('Illegal "
            "directive'), a value it cannot read, or a malformed media line. hadoctor reads it the same way "
            "and lists each such line.",
    why="heartbeat will not start with this file (exit code 6, 'Configuration error, heartbeat not started').",
    fix="Fix each listed line: spelling of the directive, `#` for comments, values in heartbeat's syntax.",
))
def hacf_errors(node):
    # CFG106 reports the timing values (code BAD_TIME)
    yield from _report(node, [p for p in _of(node.ha_cf, "error") if p.code != BAD_TIME], "line(s) heartbeat refuses")


@rule("CFG002", "ha.cf has lines heartbeat reads differently than written", severity="warning",
      needs=("ha_cf",), doc=Doc(
    meaning="Lines heartbeat accepts but ignores or reads in part: obsolete directives (udp, nice_failback), "
            "extra words it drops, duplicates where only one counts.",
    why="The file does not do what it says; the next reader trusts the wrong value.",
    fix="Rewrite each listed line the way heartbeat reads it, or remove it.",
))
def hacf_warnings(node):
    yield from _report(node, _of(node.ha_cf, "warning"), "line(s)")


@rule("CFG003", "haresources has lines that cannot work", severity="error", needs=("haresources",), doc=Doc(
    meaning="A haresources line is malformed: an IPaddr shorthand with an empty or invalid field "
            "(ip//8/eth0), an invalid address, a duplicate group key, an unrendered template.",
    why="ResourceManager or the IPaddr wrapper fails when the group is started: the service does not come up.",
    fix="Write IP resources as IPaddr::ip/prefix/nic (e.g. IPaddr::192.0.2.50/24/eth0) and keep one group key "
        "per line.",
))
def haresources_errors(node):
    yield from _report(node, _of(node.haresources, "error"), "problem(s)")


@rule("CFG004", "haresources has lines readers disagree about", severity="warning", needs=("haresources",),
      doc=Doc(
    meaning="Something heartbeat and ResourceManager read differently, e.g. an inline `#` comment (heartbeat's "
            "start-up check only knows comments at the start of a line).",
    why="The group heartbeat checks is not the group ResourceManager starts.",
    fix="Put comments on lines of their own.",
))
def haresources_warnings(node):
    yield from _report(node, _of(node.haresources, "warning"), "line(s)")
