"""``--since``/``--until`` values, shared by every command that takes them (timeline, bundle create).

>>> parse_bound("2026-11-25 09:19:20", "--since")
datetime.datetime(2026, 11, 25, 9, 19, 20)
>>> parse_bound("72h", "--since")
datetime.timedelta(days=3)
>>> parse_bound("9999999999w", "--since")
Traceback (most recent call last):
...
hadoctor.errors.UsageError: --since '9999999999w' reaches back more than 100 years
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Optional, Union

from hadoctor.errors import UsageError
from hadoctor.parsers.base import to_int

#: The longest ``--since`` span: further back than any log, and ``now - span`` stays a valid date.
MAX_SPAN = timedelta(days=100 * 365)

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_bound(value: Optional[str], name: str, *,
                durations: bool = True) -> Union[datetime, timedelta, None]:
    """A date and time in the logs' local time (naive), or, with ``durations``, a span back from a
    node's clock (``72h``, ``3d``, ``90m``). Anything else is a usage error naming the option."""
    if value is None:
        return None
    m = _RELATIVE.match(value) if durations else None
    if m:
        amount = to_int(m.group(1))
        try:
            span = timedelta(**{_UNITS[m.group(2)]: amount}) if amount is not None else None
        except OverflowError:
            span = None
        if span is None or span > MAX_SPAN:
            raise UsageError(f"{name} {value!r} reaches back more than {MAX_SPAN.days // 365} years",
                             "give a span like '72h' or '30d', or a date and time") from None
        return span
    from dateutil import parser as dateparser

    try:
        return dateparser.parse(value).replace(tzinfo=None)
    except (ValueError, OverflowError):
        if durations:
            raise UsageError(f"{name} {value!r} is neither a date and time nor a duration",
                             "write it like '2026-11-25 09:19:20' (each node's local log time) or '24h', '3d'") \
                from None
        raise UsageError(f"{name} {value!r} is not a date and time", "write it like '2026-11-25 09:19:20'") from None
