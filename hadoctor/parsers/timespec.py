"""Heartbeat's number syntax: time values (glue ``cl_get_msec``) and C ``atoi``/``%d``.

A time is seconds unless it carries ``ms`` or ``us`` (case-insensitive; anything
starting with those letters counts, so ``msec`` and ``usec`` work too).
Decimals are allowed, other units are not:

>>> parse_time_ms("2"), parse_time_ms("1.5"), parse_time_ms(".5"), parse_time_ms("500ms")
(2000, 1500, 500, 500)
>>> parse_time_ms("2500usec"), parse_time_ms("30s"), parse_time_ms("1m")
(3, None, None)
>>> format_ms(2000), format_ms(500), format_ms(1500)
('2 s', '500 ms', '1.5 s')

The result is what heartbeat stores: whole milliseconds, rounded half up
(``cl_get_msec`` adds 0.5 and truncates), so ``0.0004`` is 0 ms and
``keepalive 0.0004`` is refused just as heartbeat refuses it.
"""

from __future__ import annotations

import math
import re
from typing import Optional, Tuple

#: glue's WHITESPACE set; Python's str.split() knows more characters than C does.
C_WHITESPACE = " \t\n\r\f"
#: what C's isspace() accepts (sscanf's %d and %s skip these).
C_ISSPACE = " \t\n\v\f\r"

_NUMCHARS = frozenset("0123456789.")
_FLOAT_PREFIX = re.compile(r"[0-9]*(?:\.[0-9]*)?")
_INT_PREFIX = re.compile(r"[+-]?[0-9]+")
_LONG_MAX = 2 ** 63 - 1


def parse_time_ms(token: str) -> Optional[int]:
    """Milliseconds for a heartbeat time value, or None where heartbeat fails.

    Real ``cl_get_msec`` turns an empty string into 0; ha.cf never yields an
    empty token, and an empty value is never what a user meant, so it is None.
    """
    text = token.lstrip(C_WHITESPACE)
    if not text or text[0] not in _NUMCHARS:
        return None
    end = 0
    while end < len(text) and text[end] in _NUMCHARS:
        end += 1
    units = text[end:].lstrip(C_WHITESPACE)
    head = units[:2].lower()
    if head == "ms":
        multiplier, divisor = 1.0, 1.0
    elif head == "us":
        multiplier, divisor = 1.0, 1000.0
    elif units == "" or units[0] in "\r\n":
        multiplier, divisor = 1000.0, 1.0
    else:
        return None
    number = _FLOAT_PREFIX.match(text, 0, end).group()  # atof stops at a second '.'
    value = float(number) if number not in ("", ".") else 0.0
    value = value * multiplier / divisor + 0.5
    if not math.isfinite(value) or value > _LONG_MAX:
        return None  # C's (long) cast is undefined here; heartbeat ends up refusing it
    return int(value)


def format_ms(ms: int) -> str:
    """A time for people: ``500 ms``, ``2 s``, ``1.5 s``."""
    if abs(ms) < 1000:
        return f"{ms} ms"
    if ms % 1000 == 0:
        return f"{ms // 1000} s"
    return f"{ms / 1000:g} s"


def c_strtol(text: str) -> Tuple[Optional[int], str]:
    """C ``strtol`` base 10 cast to ``int``: ``(value, rest)``; value None when no digits.

    Leading whitespace and one sign are accepted; the value wraps to 32 bits
    the way ``(int)`` of a ``long`` does on Linux (``atoi``, ``sscanf("%d")``).

    >>> c_strtol("  42abc"), c_strtol("x1"), c_strtol("-7")
    ((42, 'abc'), (None, 'x1'), (-7, ''))
    """
    stripped = text.lstrip(C_ISSPACE)
    match = _INT_PREFIX.match(stripped)
    if match is None:
        return None, text
    digits = match.group()
    if len(digits.lstrip("+-")) > 30:  # beyond LONG range: strtol clamps
        value = _LONG_MAX if not digits.startswith("-") else -_LONG_MAX - 1
    else:
        value = max(-_LONG_MAX - 1, min(_LONG_MAX, int(digits)))
    value &= 0xFFFFFFFF
    if value >= 0x80000000:
        value -= 0x100000000
    return value, stripped[match.end():]


def c_atoi(text: str) -> int:
    """C ``atoi``: the leading integer, 0 when there is none.

    >>> c_atoi("694"), c_atoi("694x"), c_atoi("abc")
    (694, 694, 0)
    """
    value, _ = c_strtol(text)
    return 0 if value is None else value
