r"""Regexes searched in untrusted text, made linear by bounding their repeats.

A backtracking search costs, at each place it starts, as much as its repeats can scan: ``Illegal
directive \[([^\]]*)\]`` on a line of 10,000 ``Illegal directive [`` without a ``]`` scans to the
line's end from each of them, and ``(\d+) lost`` does so from every digit of a long number: the
square of the line length (a 65 KB log line cost seconds). With every unbounded repeat (``*``,
``+``, ``{m,}``) capped at :data:`REPEAT_CAP`, a search costs at most that per start: linear in the
text. No heartbeat message field (a node name, a path, a resource, a reason) is anywhere near that
long, so a capped pattern matches what the uncapped one did in real logs; on a longer field it
matches its first :data:`REPEAT_CAP` characters or not at all.

Every pattern that rules, the catalogue and the timeline search in log messages is compiled with
:func:`compile_bounded`; tests/fuzz/test_linear.py proves each linear on long lines.

>>> print(bound_repeats(r"Illegal directive \[(?P<d>[^]*+]*)\] (\d+)+? a*+ x{2,} y{3} [*+]\* (?:z)?+"))
Illegal directive \[(?P<d>[^]*+]{0,256})\] (\d{1,256}){1,256}? a{0,256}+ x{2,256} y{3} [*+]\* (?:z)?+
"""

from __future__ import annotations

import functools
import re
from typing import Pattern, Union

#: The most characters (or items) one repeat of a searched pattern may take.
REPEAT_CAP = 256

_OPEN_COUNT = re.compile(r"\{(\d+),\}")


def bound_repeats(pattern: str, cap: int = REPEAT_CAP) -> str:
    """The pattern with each ``*``, ``+`` and ``{m,}`` outside character classes capped at ``cap``.

    Lazy (``*?``) and possessive (``*+``) forms keep their suffix; escapes and classes are untouched.
    """
    out = []
    i, n = 0, len(pattern)
    quantified = False  # the previous token was a quantifier: a following '+' or '?' is its suffix
    while i < n:
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            quantified = False
            continue
        if c == "[":  # a class: copy through its closing ']' (a ']' first in the class is literal)
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            out.append(pattern[i:j + 1])
            i = j + 1
            quantified = False
            continue
        if c in "*+" and not quantified:
            out.append("{0,%d}" % cap if c == "*" else "{1,%d}" % cap)
            i += 1
            quantified = True
            continue
        if c == "{":
            m = _OPEN_COUNT.match(pattern, i)
            if m and not quantified:
                low = int(m.group(1))
                out.append("{%d,%d}" % (low, max(low, cap)))
                i = m.end()
                quantified = True
                continue
            close = pattern.find("}", i)
            if close > 0 and re.fullmatch(r"\{\d*,?\d*\}", pattern[i:close + 1]):
                out.append(pattern[i:close + 1])
                i = close + 1
                quantified = True
                continue
        if c == "?":  # '(?' opens group syntax; after a quantifier, '?' makes it lazy; else it is one
            quantified = not quantified and not (out and out[-1] == "(")
        else:
            quantified = False
        out.append(c)
        i += 1
    return "".join(out)


# a pattern that starts (after group openings) with one atom repeated: \d+ \S* [^]]+ .*
_LEADING = re.compile(r"((?:\((?:\?:|\?P<\w+>)?)*)(\\[dDsSwW]|\[\^?\]?[^]]*\]|\.)(?:[*+]|\{\d+,\d*\})")


def guard_leading_repeat(pattern: str) -> str:
    r"""Let a pattern that starts with a repeated atom start only where a run of that atom starts.

    A search tries every position; at each digit of a long number ``(\d+) lost`` scans the rest of
    the run. A leftmost match never starts inside a run (one starting a character earlier exists),
    so ``(?<!\d)`` in front changes no result and leaves one start per run.

    >>> print(guard_leading_repeat(r"(?P<n>\d+) lost"))
    (?<!\d)(?P<n>\d+) lost
    """
    if "|" in pattern:  # alternatives would need one guard each; a top-level split is not worth it
        return pattern
    m = _LEADING.match(pattern)
    if m is None:
        return pattern
    return "(?<!" + m.group(2) + ")" + pattern


@functools.lru_cache(maxsize=4096)
def compile_bounded(pattern: Union[str, bytes], flags: int = 0) -> Pattern:
    """``re.compile`` of :func:`bound_repeats` (the original when the bounded form does not compile)."""
    if isinstance(pattern, bytes):
        text = pattern.decode("latin-1")
        bounded = bound_repeats(guard_leading_repeat(text)).encode("latin-1")
    else:
        bounded = bound_repeats(guard_leading_repeat(pattern))  # type: ignore[assignment]
    try:
        return re.compile(bounded, flags)
    except re.error:
        return re.compile(pattern, flags)
