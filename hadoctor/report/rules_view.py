"""The rule catalogue for people: ``hadoctor rules`` (one line per rule) and ``hadoctor rule CODE``."""

from __future__ import annotations

from typing import Dict, Iterable

from hadoctor.terminal import console, hang, safe

_SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "cyan"}
# code (6) severity (7 and an opt-in star) scope (7): the title starts at column 25 and has 55 columns
# of an 80-column terminal, where most titles fit on one line.
_LEAD = "{code:<6}  {severity:<8} {scope:<7} "


def render_rules(rules: Iterable) -> None:
    rules = list(rules)
    con = console()
    hang(con, f"[bold]{len(rules)} rules[/]; ", "[bold]hadoctor rule CODE[/] explains one (what it needs, why it "
                                               "matters, the fix)", 2)
    hang(con, "[dim]" + _LEAD.format(code="code", severity="severity", scope="scope") + "[/]", "[dim]title[/]")
    for r in rules:
        severity = r.severity + ("*" if r.opt_in else "")
        lead = _LEAD.format(code=safe(r.code), severity=severity, scope=r.scope)
        style = _SEVERITY_STYLE.get(r.severity, "")
        lead = f"[{style}]{lead}[/]" if style else lead
        hang(con, lead, safe(r.title))
    if any(r.opt_in for r in rules):
        con.print("[dim]* opt-in: runs only when --select names its full code[/]")


def render_rule(r) -> None:
    con = console()
    hang(con, f"[bold]{safe(r.code)}[/] ", safe(r.title))
    opt_in = f" (opt-in: runs only with --select {safe(r.code)})" if r.opt_in else ""
    hang(con, "", f"severity: {safe(r.severity)}{opt_in}; scope: {safe(r.scope)}; "
                  f"needs: {safe(', '.join(r.needs) or '-')}", 2)
    for head, text in (("What it means", r.doc.meaning), ("Why it matters", r.doc.why), ("How to fix it", r.doc.fix)):
        con.print(f"\n[bold]{head}[/]")
        for paragraph in (text or "-").split("\n"):
            hang(con, "  ", safe(paragraph))
    if r.patterns:
        con.print("\n[bold]Log patterns[/]")
        for name, pattern in r.patterns.items():
            hang(con, f"  {safe(name)}: ", safe(pattern), 4)
    if r.doc.links:
        con.print("\n[bold]Links[/]")
        for link in r.doc.links:
            hang(con, "  ", safe(link), 4)


def unknown_rule_hint(code: str, rules: Dict[str, object]) -> str:
    """What to say when ``hadoctor rule CODE`` names no rule: the codes of its family, or where to look."""
    family = code.upper()[:3]
    close = sorted(c for c in rules if c.startswith(family)) if family else []
    if close:
        return f"the {len(close)} {family} codes: " + ", ".join(close)
    prefixes = sorted({c[:3] for c in rules})
    return (f"no code starts with {family!r}; the {len(rules)} rules are in families {', '.join(prefixes)}: "
            "`hadoctor rules` lists them all")
