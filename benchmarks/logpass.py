"""What ``check``'s log pass looks for, shared by the benchmarks: the patterns of every built-in log rule
and log derivation (the catch-all LOG090 gives its line prefilter instead of its match-anything pattern),
their translation to ERE for grep, and the engine's own dispatch of records to the rules.

A :class:`LogPass` loads the whole message catalogue, as ``check`` does when a log holds complaints: the
catch-all identifies every ERROR/CRIT/WARN record it is fed (``hadoctor.catalogue.identify``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def ere(pattern: str) -> str:
    """Python regex -> POSIX ERE for grep -E (the constructs our log patterns use)."""
    pattern = re.sub(r"\(\?P<[A-Za-z_]\w*>", "(", pattern).replace("(?:", "(")
    return (pattern.replace(r"\d", "[0-9]").replace(r"\S", "[^[:space:]]").replace(r"\s", "[[:space:]]")
            .replace(r"\w", "[[:alnum:]_]").replace(r"\"", '"'))


def _sources():
    from hadoctor.engine import discovery

    rules = [r for r in discovery.all_rules() if r.is_log_rule]
    derivations = [d for d in discovery.all_derivations().values() if d.is_log_derivation]
    return rules, derivations


def log_patterns() -> list:
    """Every pattern check's log pass prefilters on (each log rule's context and trigger patterns, or its
    line prefilter; each log derivation's pattern), without duplicates."""
    rules, derivations = _sources()
    found = []
    for r in rules:
        found += list(r.context.values()) + ([r.line_prefilter] if r.line_prefilter else list(r.patterns.values()))
    found += [d.pattern for d in derivations]
    return [p for p in dict.fromkeys(found) if p]


def catalogue_size() -> int:
    """Messages the catch-all can identify (the whole catalogue)."""
    from hadoctor import catalogue

    return len(catalogue.messages())


class LogPass:
    """check's log pass over one node's records, without a snapshot: the engine's prefilter (every log
    rule and log derivation) and its dispatch of each record to the rules' patterns, the catch-all's
    catalogue look-up included. Private engine classes: the benchmark measures exactly what check runs."""

    def __init__(self) -> None:
        from hadoctor.engine import runner

        rules, derivations = _sources()
        self.states = [runner._LogRuleState(r, None) for r in rules] + [runner._DerivedState(d) for d in derivations]
        self.prefilter = runner.prefilter_for(self.states)
        self.feed = runner._Dispatch(self.states).feed

    def hits(self) -> int:
        """Records some rule kept (a cheap check that the pass did its work)."""
        total = 0
        for state in self.states:
            hits = state.hits if isinstance(state.hits, dict) else {"": state.hits}
            total += sum(h.count for h in hits.values())
        return total
