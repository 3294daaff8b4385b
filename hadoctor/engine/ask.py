"""Asking the engine by name: a rule by its code, one rule's verdict on data in hand.

Code outside the rules (``fix``) uses these: never a rules file by its name, never a second copy of
what a rule decides. The rules are discovered once (built-in, entry points).
"""

from __future__ import annotations

from typing import Any, Dict, List

from hadoctor.rulemodel import Finding, Rule


def rule(code: str) -> Rule:
    """The rule with this code (KeyError naming the code when there is none)."""
    from hadoctor.engine.discovery import all_rules

    for r in all_rules():
        if r.code == code:
            return r
    raise KeyError(f"no rule {code}")


def verdict(nodes: Dict[str, Dict[str, Any]], code: str) -> List[Finding]:
    """Rule ``code``'s failing and info findings on data in hand: ``{node: {datum name: parsed value}}``.

    >>> from hadoctor.parsers.authkeys import parse_authkeys
    >>> keys = {"n1": {"authkeys": parse_authkeys(b"auth 1\\n1 sha1 k\\n", "authkeys", mode=0o644)}}
    >>> [f.message for f in verdict(keys, "SEC001")]
    ['authkeys mode is 0644 (?:?): heartbeat refuses it']
    """
    from hadoctor.engine.runner import run
    from hadoctor.snapshot.model import ClusterSnapshot, NodeSnapshot

    cluster = ClusterSnapshot("in hand", "live")
    for name, data in nodes.items():
        node = NodeSnapshot(name, "in hand")
        for datum, value in data.items():
            node.put(datum, value, getattr(value, "path", "") or datum)
        cluster.nodes.append(node)
    return [f for f in run(cluster, [rule(code)]).findings if f.status in ("fail", "info")]
