"""The catch-all: heartbeat complained and no other rule explains it.

Every ERROR/CRIT line of heartbeat, its scripts and the resource agents (any layout, any version) that
hadoctor's catalogue does not explain is quoted, counted, with its first and last time; so is every
catalogued message without a dedicated rule (at WARN too), named with its diagnosis family
(:mod:`hadoctor.catalogue.families`), whose meaning and fix become the finding's fix. Messages the
catalogue classifies as benign, or as explained by a rule, stay quiet here.
"""

from __future__ import annotations

import re
from typing import Optional

from hadoctor import catalogue
from hadoctor.catalogue.families import file_name
from hadoctor.parsers.hblog import is_cluster_record
from hadoctor.rulekit import START_PATTERN, Doc, fail, in_current_run, info, log_rule

_COMPLAINTS = frozenset(("emerg", "alert", "crit", "error"))
_DIGITS = re.compile(r"\d+")
#: at most this many distinct messages are quoted one by one; the rest are counted
SHOWN = 12
UNRECOGNISED_FIX = ("hadoctor's catalogue does not know this message. Read it with the lines around it (the "
                    "program in the line's prefix tells which part complained: heartbeat, ResourceManager, an "
                    "agent) and send it to hadoctor's authors so that it can be catalogued.")


def _unexplained(record, match) -> Optional[str]:
    """The key a complaint is counted under: ``=NAME`` for a catalogued message the catch-all quotes,
    ``?TEXT`` (digits masked) for a message hadoctor does not know; None for anything else."""
    level = record.level
    if level not in _COMPLAINTS and level != "warn":
        return None
    if is_cluster_record(record) is False:
        return None  # another program's line in a syslog file
    text = record.message.partition("\n")[0].strip()
    entry = catalogue.identify(text)
    if entry is not None:
        return "=" + entry.name if entry.classification == catalogue.CATCH_ALL else None
    if level not in _COMPLAINTS or not text:
        return None  # an unknown WARN line is not worth a finding
    return "?" + _DIGITS.sub("#", text)[:200]


@log_rule(
    "LOG090", "heartbeat logged errors that no other rule explains",
    severity="warning",
    patterns={"complaint": ""},
    group_by={"complaint": _unexplained},
    # the level words heartbeat, its scripts and the agents write (upper case; other programs' "error:" is not theirs)
    line_prefilter=r"(?:ERROR|CRIT(?:ICAL)?|EMERG|ALERT|WARN(?:ING)?):",
    context={"start": START_PATTERN},
    doc=Doc(
        meaning="heartbeat, one of its scripts or a resource agent logged an ERROR or CRIT line (or a WARN "
                "line the catalogue knows) that no dedicated rule explains. Catalogued messages name their "
                "diagnosis family (the part of the stack that complained) and upstream source file; messages "
                "hadoctor does not know are marked 'unrecognised by hadoctor'.",
        why="Silence would be worse: the line may be the only trace of the problem. hadoctor quotes it, counts "
            "it and says when it was first and last seen.",
        fix="A catalogued message's finding gives its family's meaning and fix. For an unrecognised one, read "
            "it with the lines around it (the program in the line's prefix tells which part complained) and "
            "send it to hadoctor's authors so that it can be catalogued.",
    ),
)
def unexplained_complaints(node, hits):
    complaints = hits["complaint"]
    ranked = sorted(complaints.groups.items(), key=lambda kv: (-kv[1].count, kv[0]))
    for key, group in ranked[:SHOWN]:
        first, last = group.first, group.last
        quoted = first.message.partition("\n")[0].strip()
        if len(quoted) > 160:
            quoted = quoted[:159] + "…"
        span = _span(first, last, group.count)
        level = (first.level or "error").upper()
        when = "now" if in_current_run({"k": group, "start": hits["start"]}, "k") else "past"
        if key.startswith("="):
            entry = catalogue.message(key[1:])
            group_of = catalogue.family(entry)
            where = file_name(entry.source)
            if group_of is None:  # the catalogue test keeps every quoted message in a family
                text, fix = f"{level} \"{quoted}\" {span} (known message of {where})", ""
            else:
                text = f"{level} \"{quoted}\" {span} ({group_of.label}, {where})"
                fix = f"{group_of.meaning} {group_of.fix}"
            if entry.level in _COMPLAINTS or first.level in _COMPLAINTS:
                yield fail(text, group.evidence(node, 1), fix=fix, when=when)
            else:
                yield info(text, group.evidence(node, 1), fix=fix, when=when)
        else:
            yield fail(f"{level} \"{quoted}\" {span}: unrecognised by hadoctor", group.evidence(node, 1),
                       fix=UNRECOGNISED_FIX, when=when)
    rest = ranked[SHOWN:]
    if rest or complaints.groups_dropped:
        lines = sum(g.count for _, g in rest) + complaints.groups_dropped
        yield info(f"{len(rest)} more distinct message(s) ({lines} line(s)) not quoted here; see the log",
                   [], when="past")


def _span(first, last, count: int) -> str:
    if count == 1:
        return f"logged once{_at(first)}"
    return f"logged {count} times, first{_at(first)}, last{_at(last)}"


def _at(record) -> str:
    if record.time is not None:
        return f" {record.time:%Y-%m-%d %H:%M:%S}"
    return f" at {record.file}:{record.line}"
