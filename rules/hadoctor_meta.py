"""hadoctor's own findings about suppressions. They read what the engine judged of each suppression
(``suppression_checks``, ``suppression_use``: hadoctor.engine.runner.ENGINE_DATA) once the other rules ran;
for ``suppression_use`` the engine also runs, unreported, the rules a suppression names that are not
selected, so each verdict is the same alone as in company."""

from __future__ import annotations

from hadoctor.rulekit import Doc, at, fail, rule

FIX = "remove or correct the suppression comment"


def _evidence(supp, message: str):
    return [at(supp.node, supp.file, supp.line, message)]


@rule("HDR001", "a suppression matches nothing", severity="warning", scope="cluster", needs=("suppression_use",),
      doc=Doc(
    meaning="A `# hadoctor: ignore=CODE reason=...` comment (or a line of the --suppressions file) did not "
            "suppress any finding of a rule that ran.",
    why="Stale suppressions hide nothing today but will silently hide a real problem tomorrow.",
    fix="Remove the suppression, or correct its code.",
))
def suppression_unused(cluster):
    for state in cluster.suppression_use:
        if state.matched == 0:
            supp = state.suppression
            message = f"{supp.where()}: ignore={','.join(supp.codes)} matched no finding; remove it"
            yield fail(message, _evidence(supp, message), fix=FIX, node=supp.node)


@rule("HDR002", "a suppression is invalid or has expired", severity="warning", scope="cluster",
      needs=("suppression_checks",), doc=Doc(
    meaning="A suppression lacks `ignore=` or `reason=`, has an unreadable `until=` date, or its `until=` date "
            "has passed; it is not applied.",
    why="Every waiver needs a reason and, ideally, an end date; an expired waiver means the finding is back.",
    fix="Add reason='...', fix the date (YYYY-MM-DD), or fix the finding and remove the suppression.",
))
def suppression_invalid(cluster):
    for state in cluster.suppression_checks:
        supp = state.suppression
        if state.problem:
            message = f"{supp.where()}: {state.problem}"
        elif state.expired:
            message = f"{supp.where()}: expired on {supp.until}; it is no longer applied"
        else:
            continue
        yield fail(message, _evidence(supp, message), fix=FIX, node=supp.node)
