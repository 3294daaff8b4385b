"""hadoctor's own findings about suppressions. The engine judges them after the other rules (HDR001 runs
the rules a suppression names even when they are not selected); these entries document them and, like any
rule, are reported only when selected."""

from __future__ import annotations

from hadoctor.rulekit import Doc, rule


@rule("HDR001", "a suppression matches nothing", severity="warning", needs=(), doc=Doc(
    meaning="A `# hadoctor: ignore=CODE reason=...` comment (or a line of the --suppressions file) did not "
            "suppress any finding of a rule that ran.",
    why="Stale suppressions hide nothing today but will silently hide a real problem tomorrow.",
    fix="Remove the suppression, or correct its code.",
))
def suppression_unused(node):
    return ()


@rule("HDR002", "a suppression is invalid or has expired", severity="warning", needs=(), doc=Doc(
    meaning="A suppression lacks `ignore=` or `reason=`, has an unreadable `until=` date, or its `until=` date "
            "has passed; it is not applied.",
    why="Every waiver needs a reason and, ideally, an end date; an expired waiver means the finding is back.",
    fix="Add reason='...', fix the date (YYYY-MM-DD), or fix the finding and remove the suppression.",
))
def suppression_invalid(node):
    return ()
