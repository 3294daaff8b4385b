"""hadoctor's catalogue of what heartbeat, cluster-glue and the resource agents write to the log.

One :class:`Message` per log message: a stable name, the level it is logged at, the upstream file
that writes it, our regex (searched in a parsed record's message, see
:mod:`hadoctor.parsers.hblog`), a real sample line, and its classification: the rule that explains
it (``rule``), or why it is benign (``benign``); an entry with neither belongs to a diagnosis family
(:mod:`hadoctor.catalogue.families`, computed from its source file), which the catch-all rule quotes with
the family's meaning and fix (:data:`CATCH_ALL`, :func:`family`).

This is the one vocabulary: rules, the timeline and ``fix`` take their patterns from here by name
(:func:`pattern`); no other module writes a regex for a heartbeat message.

Data files, one per daemon or package, written by hand from the upstream sources; beside each, a file in
:mod:`hadoctor.catalogue.listed` holds every other ERROR/CRIT/WARN message of the same sources (listed
from the format strings by a script and checked against them; loaded only to identify a message):

================================  =============================================================
module                            messages of
================================  =============================================================
:mod:`.heartbeat`                 heartbeat 3.0.6 daemon (``heartbeat/*.c``), HBcomm and HBauth
                                  plugins, and what 2.1.x writes differently
:mod:`.scripts`                   ResourceManager, mach_down, req_resource, hb_standby, harc
:mod:`.clients`                   ipfail and dopd (heartbeat 3.0.6 / 2.1 contrib), run from respawn
:mod:`.glue`                      cluster-glue 1.0.12: libplumb, ha_logd, lrmd
:mod:`.stonith`                   cluster-glue's stonith library and plugins
:mod:`.agents`                    resource-agents 4.12 / 3.9.5: IPaddr, IPaddr2, findif,
                                  Filesystem, SendArp, MailTo, ocf-shellfuncs
:mod:`.drbd`                      DRBD's drbddisk script, as ResourceManager logs it
================================  =============================================================

>>> pattern("hb.node_dead")
'node (?P<node>\\\\S+): is dead'
>>> pattern("hb.link_status", status="dead")
'Link (?P<node>[^:\\\\s]+):(?P<iface>\\\\S+) (?P<status>dead)\\\\.'
>>> identify("node nodeb: is dead").name
'hb.node_dead'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Dict, Iterable, List, Optional, Tuple

from hadoctor.catalogue.families import FAMILIES, Family, of_source
from hadoctor.linear import compile_bounded

__all__ = ["Message", "M", "pattern", "literal", "gate", "message", "messages", "identify", "family", "CATCH_ALL",
           "LEVELS", "FAMILIES", "Family"]

#: The rule that quotes catalogued messages without a dedicated rule (and ERROR/CRIT lines not catalogued).
CATCH_ALL = "LOG090"
LEVELS = ("emerg", "alert", "crit", "error", "warn", "notice", "info", "debug")
#: Packages the ``source`` field names (``package:path``).
PACKAGES = ("heartbeat-3.0.6", "heartbeat-2.1", "glue-1.0.12", "agents-4.12", "agents-3.9.5", "drbd-utils-9")


@dataclass(frozen=True)
class Message:
    """One log message. ``source`` is ``package:path`` (several separated by ``, `` when the message is
    written by more than one file or version); ``sample`` is a whole log line."""

    name: str
    level: str
    source: str
    regex: str
    sample: str
    rule: Optional[str] = None
    benign: Optional[str] = None
    note: str = ""

    @property
    def classification(self) -> str:
        """The rule code that explains it, ``benign``, or the catch-all's code (it quotes the message with
        its family, :func:`family`)."""
        if self.rule:
            return self.rule
        return "benign" if self.benign else CATCH_ALL

    @property
    def packages(self) -> Tuple[str, ...]:
        return tuple(part.split(":", 1)[0].strip() for part in self.source.split(","))


def M(name: str, level: str, source: str, regex: str, sample: str, *, rule: Optional[str] = None,
      benign: Optional[str] = None, note: str = "") -> Message:
    """Shorthand the data files use."""
    return Message(name, level, source, regex, sample, rule, benign, note)


_CURATED: Optional[Dict[str, Message]] = None
_ALL: Optional[Dict[str, Message]] = None
_PACKAGES = ("heartbeat", "drbd", "scripts", "clients", "glue", "stonith", "agents")


def _table(modules) -> Dict[str, Message]:
    table: Dict[str, Message] = {}
    for module in modules:
        for entry in module.MESSAGES:
            if entry.name in table:
                raise ValueError(f"catalogue: {entry.name} defined twice")
            if entry.rule is None and entry.benign is None:
                group = of_source(entry.source, entry.name)
                if group is not None and group.benign:
                    entry = replace(entry, benign=group.benign)  # a whole family is noise (test programs)
            table[entry.name] = entry
    return table


def family(entry: Message) -> Optional[Family]:
    """The diagnosis family of a message the catch-all quotes (no rule explains it, not benign), or None.

    >>> family(message("hb.fifo_does_not_exist")).label
    "heartbeat's core"
    >>> family(message("hb.node_dead")) is None  # explained by a rule
    True
    """
    if entry.rule or entry.benign:
        return None
    return of_source(entry.source, entry.name)


def _curated() -> Dict[str, Message]:
    """The messages rules, the timeline and fix read (small: loaded at start-up)."""
    global _CURATED
    if _CURATED is None:
        import importlib

        _CURATED = _table(importlib.import_module(f"hadoctor.catalogue.{p}") for p in _PACKAGES)
    return _CURATED


def _load() -> Dict[str, Message]:
    """Every message: the curated ones, then the listed ones (:mod:`hadoctor.catalogue.listed`)."""
    global _ALL
    if _ALL is None:
        import importlib

        listed = _table(importlib.import_module(f"hadoctor.catalogue.listed.{p}") for p in _PACKAGES)
        both = dict(_curated())
        for name, entry in listed.items():
            if name in both:
                raise ValueError(f"catalogue: {name} defined twice")
            both[name] = entry
        _ALL = both
    return _ALL


def messages() -> List[Message]:
    """Every catalogued message, curated ones first, each package in file order."""
    return list(_load().values())


def message(name: str) -> Message:
    entry = _curated().get(name)
    if entry is None:
        entry = _load().get(name)
    if entry is None:
        raise KeyError(f"no message {name!r} in hadoctor's catalogue")
    return entry


def pattern(*names: str, **narrow: str) -> str:
    """The regex of one message, or an alternation of several (a group name repeated in a later message
    captures only in the first).

    ``narrow`` replaces the body of a named group, for a rule that wants only some values
    (``pattern("hb.link_status", status="dead")``).
    """
    parts = [message(n).regex for n in names]
    for group, body in narrow.items():
        done = False
        for i, text in enumerate(parts):
            span = _group_span(text, group)
            if span is not None:
                parts[i] = text[:span[0]] + body + text[span[1]:]
                done = True
        if not done:
            raise KeyError(f"no group {group!r} in {names}")
    if len(parts) == 1:
        return parts[0]
    seen: set = set()
    for i, text in enumerate(parts):
        # a group name may appear once in a regex: later messages' same-named groups stop capturing
        names = set(_GROUP.findall(text))
        for name in names & seen:
            text = text.replace(f"(?P<{name}>", "(?:")
        parts[i] = text
        seen |= names
    return "|".join(f"(?:{p})" for p in parts)


_GROUP = re.compile(r"\(\?P<(\w+)>")


def literal(name: str) -> str:
    """The fixed text of a message whose regex is plain text (for ``grep -F`` on a node).

    >>> literal("hb.restart_exec")
    'Performing heartbeat restart exec'
    """
    regex = message(name).regex
    if not _FIXED.fullmatch(regex):
        raise ValueError(f"{name}: not a fixed text: {regex}")
    return re.sub(r"\\(.)", r"\1", regex)


_FIXED = re.compile(r"(?:[^\\()\[\]*+?|{}^$.]|\\[^A-Za-z0-9])*")


def gate(name: str) -> str:
    """A piece of fixed text every match of the message contains (a cheap test before the regex).

    >>> gate("hb.link_status")
    'Link '
    """
    found = _literal(message(name).regex)
    if found is None:
        raise ValueError(f"{name}: its regex has no fixed text of 4 characters or more outside groups")
    return found


def _group_span(text: str, group: str) -> Optional[Tuple[int, int]]:
    """Where the body of ``(?P<group>...)`` starts and ends in ``text``."""
    head = f"(?P<{group}>"
    start = text.find(head)
    if start < 0:
        return None
    i, depth, in_class = start + len(head), 1, False
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if text[i + 1:i + 2] == "]":
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return start + len(head), i
        i += 1
    return None


# --- identifying a message (the catch-all, tests) ---------------------------------------------------

_INDEX: Optional[Tuple[List[Tuple[str, List[Tuple[Message, "re.Pattern[str]"]]]], List[Tuple[Message, "re.Pattern[str]"]]]] = None


def _literal(regex: str) -> Optional[str]:
    """A literal every match contains: the longest plain run outside groups and classes (4 characters at
    least), or None (an alternation at the top level, or no such run)."""
    best, run = "", []
    depth, i = 0, 0
    while i < len(regex):
        c = regex[i]
        if c == "\\" and i + 1 < len(regex):
            nxt = regex[i + 1]
            if depth == 0 and not nxt.isalnum():
                run.append(nxt)
            else:
                best, run = max(best, "".join(run), key=len), []
            i += 2
            continue
        if c == "[":
            best, run = max(best, "".join(run), key=len), []
            j = i + 2 if regex[i + 1:i + 2] in ("]", "^") else i + 1
            while j < len(regex) and regex[j] != "]":
                j += 2 if regex[j] == "\\" else 1
            i = j + 1
            continue
        if c == "(":
            best, run = max(best, "".join(run), key=len), []
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return None
        elif c in "*?+{":
            if run and depth == 0:
                run.pop()  # the quantified character may be absent or repeated
            best, run = max(best, "".join(run), key=len), []
        elif c in ".^$":
            best, run = max(best, "".join(run), key=len), []
        elif depth == 0:
            run.append(c)
        i += 1
    best = max(best, "".join(run), key=len)
    return best if len(best) >= 4 else None


def _index():
    global _INDEX
    if _INDEX is None:
        by_literal: Dict[str, List[Message]] = {}
        always: List[Message] = []
        for entry in _load().values():
            lit = _literal(entry.regex)
            if lit:
                by_literal.setdefault(lit, []).append(entry)
            else:
                always.append(entry)
        _INDEX = (list(by_literal.items()), always)
    return _INDEX


_COMPILED: Dict[str, "re.Pattern[str]"] = {}


def _compiled(entry: Message) -> "re.Pattern[str]":
    rx = _COMPILED.get(entry.name)
    if rx is None:
        rx = _COMPILED[entry.name] = compile_bounded(entry.regex)  # linear on any message (hadoctor.linear)
    return rx


#: message shape (digits masked) -> the entry name found for it, or None; bounded
_SEEN: Dict[str, Optional[str]] = {}
_SEEN_MAX = 4096
_SEEN_LONGEST = 1024
_DIGITS = re.compile(r"0x[0-9a-fA-F]+|[0-9a-fA-F]{8,}|\d+")


def identify(text: str) -> Optional[Message]:
    """The catalogued message ``text`` (a record's message) is, or None. Among several matches the most
    specific (most literal text in its regex) wins, then the first in file order.

    A log repeats its messages with other numbers: the answer for a message's shape (numbers, hex masked) is
    remembered and only confirmed with that entry's regex the next time.
    """
    shape = _DIGITS.sub("#", text)
    if shape in _SEEN:
        name = _SEEN[shape]
        if name is None:
            return None
        entry = _load()[name]
        if _compiled(entry).search(text):
            return entry
    found = _identify(text)
    if len(shape) > _SEEN_LONGEST:  # 4096 hostile 64 KB lines would hold 256 MB
        return found
    if len(_SEEN) >= _SEEN_MAX:
        _SEEN.clear()
    _SEEN[shape] = found.name if found is not None else None
    return found


def _identify(text: str) -> Optional[Message]:
    literals, always = _index()
    found: List[Tuple[int, int, Message]] = []
    order = _order()
    for lit, entries in literals:
        if lit in text:
            for entry in entries:
                if _compiled(entry).search(text):
                    found.append((_weight(entry), order[entry.name], entry))
    for entry in always:
        if _compiled(entry).search(text):
            found.append((_weight(entry), order[entry.name], entry))
    if not found:
        return None
    return min(found, key=lambda item: item[:2])[2]


_SYNTAX = re.compile(r"\\[A-Za-z]|\[[^\]]*\][*+?]?|\(\?P<\w+>|\(\?[:!=]|[()*+?|.^$]|\{\d*,?\d*\}")


def _weight(entry: Message) -> int:
    """Minus the amount of literal text in the entry's regex (the more, the more specific)."""
    return -len(_SYNTAX.sub("", entry.regex))


_ORDER: Optional[Dict[str, int]] = None


def _order() -> Dict[str, int]:
    """File order, with the messages of a benign family (test programs) after every other: a running
    cluster's "Out of memory" is not a test program's."""
    global _ORDER
    if _ORDER is None:
        entries = list(_load().values())
        last = len(entries)
        _ORDER = {}
        for i, entry in enumerate(entries):
            group = of_source(entry.source, entry.name) if entry.benign and not entry.rule else None
            _ORDER[entry.name] = i + last if group is not None and group.benign else i
    return _ORDER


def by_package_and_level(entries: Iterable[Message]) -> Dict[Tuple[str, str], int]:
    """Counts per (package, level), for the coverage report; a message of several packages counts in each."""
    counts: Dict[Tuple[str, str], int] = {}
    for entry in entries:
        for package in dict.fromkeys(entry.packages):
            key = (package, entry.level)
            counts[key] = counts.get(key, 0) + 1
    return counts
