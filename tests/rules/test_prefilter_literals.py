"""The literals check's log pass hands to grep (or the in-process scanner) pick out few lines beyond those
the rules' patterns match: every false candidate is read back and searched in Python, which is where the
time of a big log goes. A rule pattern whose literal shares 12+ bytes with another's is searched as the
shared part (hblog_prefilter.MIN_SHARED): a context pattern on ipfail's 'Link Status update' once turned
heartbeat's 'Status update for node' into 'Status update', which holds every ipfail status line, and
check took 8x longer on the benchmark log (benchmarks/README.md)."""

from __future__ import annotations

import io
import sys
from datetime import datetime

from hadoctor.engine import discovery, runner
from hadoctor.parsers.hblog_prefilter import scanner_for
from tests.conftest import REPO


def _benchmark_log(size: int) -> bytes:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from gen_log import generate
    finally:
        sys.path.pop(0)
    out = io.BytesIO()
    generate(out, size, 1, 0.01, datetime(2025, 10, 1))
    return out.getvalue()


def test_the_log_pass_literals_select_little_more_than_the_patterns_match():
    rules = [r for r in discovery.all_rules() if r.is_log_rule]
    derivations = [d for d in discovery.all_derivations().values() if d.is_log_derivation]
    states = [runner._LogRuleState(r, None) for r in rules] + [runner._DerivedState(d) for d in derivations]
    prefilter = runner.prefilter_for(states)
    literals = scanner_for(prefilter).literals
    assert literals, "the log pass lost its literals: every line would be searched with the regex"
    lines = _benchmark_log(2 << 20).split(b"\n")
    candidates = [line for line in lines if any(lit in line for lit in literals)]
    matched = [line for line in candidates if prefilter.search(line)]
    assert len(matched) > 100  # the log holds failures the rules look for
    assert len(candidates) <= 1.5 * len(matched), (
        f"{len(candidates)} candidate lines for {len(matched)} matches: a literal is too common "
        f"({sorted(literals, key=len)[:8]})")
