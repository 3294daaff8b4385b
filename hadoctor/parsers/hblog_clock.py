"""Timestamps of heartbeat log lines, and the year of those that have none.

Year inference for year-less (``syslog``/``journal``) timestamps:

1. Start: if the first MiB of the file holds a record with a full date, start from
   it; otherwise from ``reference`` (the file's mtime for files; now if None), with
   records assumed not to lie in the future: a month later than the reference's
   month means the previous year.
2. Every record with a full date sets the current year and month.
3. A year-less record takes the year that puts its month nearest (at most six
   months away) to the previous record's: Dec → Jan rolls into the next year,
   while a line one month out of order (interleaved writers) does not.

With a ``prefilter`` the parser does not see every line, so the current month
follows the records it does parse (the file's first record, the matches and their
neighbours, the last record of each block). With a reference not older than the
log (its mtime), the result differs from a full parse only if one 1 MiB block
spans more than six months or holds full-date records that disagree with the
year inferred so far (clocks changed).

>>> clock = YearClock(datetime(2026, 11, 30))
>>> clock.syslog_time("Nov 25 07:34:40"), clock.syslog_time("Dec 31 23:59:59"), clock.syslog_time("Jan  3 07:00:00")
... # doctest: +NORMALIZE_WHITESPACE
(datetime.datetime(2026, 11, 25, 7, 34, 40), datetime.datetime(2026, 12, 31, 23, 59, 59),
 datetime.datetime(2027, 1, 3, 7, 0))
>>> clock.full_time("2026/11/25_07:38:18"), clock.year, clock.month
(datetime.datetime(2026, 11, 25, 7, 38, 18), 2026, 11)
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional, Tuple

from hadoctor.parsers.hblog_record import Reference

_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}


class YearClock:
    """The current year and month of a log being read, with per-minute and per-second caches of parsed
    timestamps (bursts of lines share one); the line parser extends it."""

    __slots__ = ("year", "month", "fresh", "ref_year", "ref_month", "sys_key", "sys_val",
                 "sys_ts", "sys_dt", "full_key", "full_val", "full_ts", "full_dt")

    def __init__(self, reference: Reference) -> None:
        ref = reference if reference is not None else datetime.now()
        self.ref_year, self.ref_month = ref.year, ref.month
        self.year, self.month = ref.year, ref.month
        self.fresh = True  # no record seen yet: apply the "not in the future" rule
        # caches per minute: "Nov 25 07:34" -> (year, month, day, hour, minute); "2026/11/25_07:34" -> same
        self.sys_key: Optional[str] = None
        self.sys_val: Tuple = ()
        self.full_key: Optional[str] = None
        self.full_val: Tuple = ()
        # and per second (bursts of lines share one): the whole timestamp -> datetime
        self.sys_ts: Optional[str] = None
        self.sys_dt: Optional[datetime] = None
        self.full_ts: Optional[str] = None
        self.full_dt: Optional[datetime] = None

    def anchor(self, when: datetime) -> None:
        self.year, self.month, self.fresh = when.year, when.month, False

    def syslog_time(self, ts: str):
        """Datetime of ``Mmm DD HH:MM:SS``; False when the month is not a month name."""
        key = ts[:-3]
        if key == self.sys_key:
            val = self.sys_val
        else:
            parts = ts.split()
            month = _MONTHS.get(parts[0])
            if month is None:
                return False
            if self.fresh:
                self.fresh = False
                self.year = self.ref_year if month <= self.ref_month else self.ref_year - 1
            else:
                step = month - self.month
                if step < -6:
                    self.year += 1
                elif step > 6:
                    self.year -= 1
            self.month = month
            hms = parts[2]
            val = (self.year, month, int(parts[1]), int(hms[0:2]), int(hms[3:5]))
            self.sys_key, self.sys_val = key, val
        try:
            when: Optional[datetime] = datetime(val[0], val[1], val[2], val[3], val[4], int(ts[-2:]))
        except ValueError:  # Feb 30, second 60, a year out of range
            when = None
        self.sys_ts, self.sys_dt = ts, when
        return when

    def full_time(self, ts: str) -> Optional[datetime]:
        """Datetime of ``YYYY/MM/DD_HH:MM:SS``; a valid one sets the current year and month."""
        key = ts[:-3]
        if key == self.full_key:
            val = self.full_val
        else:
            val = (int(ts[0:4]), int(ts[5:7]), int(ts[8:10]), int(ts[11:13]), int(ts[14:16]))
            self.full_key, self.full_val = key, val
        try:
            when = datetime(val[0], val[1], val[2], val[3], val[4], int(ts[17:19]))
        except ValueError:
            return None
        if val[0] != self.year or val[1] != self.month:
            self.set_full(val[0], val[1])
        self.fresh = False
        self.full_ts, self.full_dt = ts, when
        return when

    def set_full(self, year: int, month: int) -> None:
        self.year, self.month, self.fresh = year, month, False
        self.sys_key = self.sys_ts = None  # the year of the next year-less line may change
