"""One physical line of a heartbeat log into a :class:`~hadoctor.parsers.hblog_record.LogRecord`: the line
layouts (docs/heartbeat/logs.md#line-layouts).

One heartbeat log mixes several line layouts: the daemon writes
syslog-style lines, the shell scripts (ResourceManager, harc, mach_down, IPaddr)
write their own timestamp first or last, syslog and journald add their prefixes.

================  ===========================================================================
layout            line start (example)
================  ===========================================================================
``syslog``        ``Nov 25 07:34:40 nodea heartbeat: [2129]: WARN: ...`` (3.0.x file, zero-padded
                  day), ``May  9 12:10:40 gw2 ResourceManager[26976]: info: ...`` (syslog)
``journal``       ``Feb 08 03:19:48 master1 heartbeat[38569]: [38569]: info: ...``
``rfc3339``       ``2026-11-25T07:34:40.123456+01:00 nodea heartbeat: [2129]: info: ...``
``tag-date``      ``heartbeat[10236]: 2026/11/25_07:38:18 info: ...`` (2.x, ``syslogmsgfmt false``),
                  ``harc(default)[65199]:<TAB>2018/02/09_01:05:32 info: ...`` (scripts, 3.9),
                  ``harc[14349][14355]: ...`` (via logd)
``date-tag``      ``2026/11/25_07:36:14  ResourceManager(default)[6153]:    info: ...`` (scripts, 4.x)
``tag``           ``IPaddr(IPaddr_192.0.2.50)[9238]:    ERROR: ...`` (script line, timestamp cut off)
``bare``          ``ERROR: Configuration error, heartbeat not started.`` (prefix cut off)
``stderr``        ``heartbeat: udpport setting must precede media statements`` (no newline: the next
                  message is glued to it and becomes a record of its own on the same line)
``unknown``       anything else that cannot continue a record; the raw text is the message
================  ===========================================================================

A line in no layout is no record here (None): it continues the record before it
(:mod:`hadoctor.parsers.hblog_assemble`).

>>> LineParser("ha-log", None).parse("ERROR: Configuration error, heartbeat not started.", 1, False).layout
'bare'
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import List, Optional

from hadoctor.parsers.base import decode, to_int
from hadoctor.parsers.hblog_clock import YearClock
from hadoctor.parsers.hblog_record import LogRecord, Reference

# Patterns run on decoded text of one line, without the newline.

_LEVELS = {}
for _word, _norm in (("emerg", "emerg"), ("emergency", "emerg"), ("alert", "alert"), ("crit", "crit"),
                     ("critical", "crit"), ("err", "error"), ("error", "error"), ("warn", "warn"),
                     ("warning", "warn"), ("notice", "notice"), ("info", "info"), ("debug", "debug")):
    for _variant in (_word, _word.upper(), _word.capitalize()):
        _LEVELS[_variant] = _norm
_LEVEL_WORDS = "|".join(sorted({w.lower() for w in _LEVELS}, key=lambda w: (-len(w), w)))
# a word and its colon, a level if _LEVELS knows it (checked in Python: cheaper than a case-insensitive
# alternation); the spaces after it (two after ra_execocf's "INFO:") are not message
_LEVEL = r"[ \t]*(?:([A-Za-z]{3,9}):(?:[ \t]+|$))?"
_SYSLOG_TS = r"[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d"
_FULL_TS = r"\d{4}/\d\d/\d\d_\d\d:\d\d:\d\d"
# script name or path, "(instance)": harc(default), /usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_x)
_TAG = r"([^\s\[(:]+)(?:\(([^)\s]*)\))?"
# "[pid]", or "[pid][pid]" when logged through logd; the first is the script's
_PIDS = r"(?:\[(\d+)\](?:\[\d+\])*)"
_HOST_IDENT = (
    r" (?:([^\s:\[\]()]+) )? *"     # host (empty in some exports)
    r"(?:" + _TAG + _PIDS + r"?: ?)?"  # ident: heartbeat:, ResourceManager[26976]:, IPaddr2(prm)[31269]:
    r"(?:\[(\d+)\]: ?)?"             # heartbeat's own "[pid]: "
)

# groups: ts host ident instance pid innerpid level message
_SYSLOG = re.compile("(" + _SYSLOG_TS + r")(?:\.\d+)?" + _HOST_IDENT + _LEVEL + "(.*)")
# groups: Y M D h m s fraction host ident instance pid innerpid level message
_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?(?:Z|[+-]\d\d(?::?\d\d)?)?"
                      + _HOST_IDENT + _LEVEL + "(.*)")
# groups: ts script instance pid level message
_DATETAG = re.compile("(" + _FULL_TS + r")(?:[ \t]+|$)(?:" + _TAG + _PIDS + r":(?:[ \t]+|$))?" + _LEVEL + "(.*)")
# groups: script instance pid ts level message
_TAGDATE = re.compile(_TAG + _PIDS + r"?:[ \t]*(" + _FULL_TS + r")(?:[ \t]+|$)" + _LEVEL + "(.*)")
# groups: script instance pid level message (a script line with its timestamp cut off)
_TAGONLY = re.compile(_TAG + _PIDS + r":[ \t]*((?i:" + _LEVEL_WORDS + r")):(?:[ \t]+|$)(.*)")
# groups: level message
_BARE = re.compile(r"((?i:" + _LEVEL_WORDS + r")):(?:[ \t]+|$)(.*)")
# stderr text printed without a newline ends where the next message starts, glued to it
_STDERR = re.compile(r"heartbeat: (.*?)(?:(?<=\S)(?=heartbeat(?:\[\d+\])?: |" + _SYSLOG_TS + " )|$)")

_DISPATCH = dict.fromkeys("JFMASOND", 1)
_DISPATCH.update(dict.fromkeys("0123456789", 2))
_MAX_NESTING = 4
_MAX_GLUED = 16


def _component(ident: Optional[str]) -> Optional[str]:
    if ident and "/" in ident:
        return ident.rpartition("/")[2] or ident
    return ident


def _level(word: Optional[str]) -> Optional[str]:
    if not word:
        return None
    return _LEVELS.get(word) or _LEVELS.get(word.lower())


class LineParser(YearClock):
    """Turns one line of text into a LogRecord (or None when no layout matches); keeps the year state."""

    __slots__ = ("path", "pre")

    def __init__(self, path: str, reference: Reference) -> None:
        super().__init__(reference)
        self.path = path
        #: records that precede the returned one on the same physical line (glued stderr text)
        self.pre: List[LogRecord] = []

    def parse(self, text: str, lineno: int, trunc: bool, depth: int = 0) -> Optional[LogRecord]:
        kind = _DISPATCH.get(text[:1], 0)
        if kind == 1:
            m = _SYSLOG.match(text)
            if m is not None:
                ts, host, ident, inst, pid, inner, lvl, msg = m.groups()
                when = self.sys_dt if ts == self.sys_ts else self.syslog_time(ts)
                if when is not False:
                    if lvl is not None:
                        level = _LEVELS.get(lvl) or _LEVELS.get(lvl.lower())
                        if level is None:
                            msg = text[m.start(7):]
                    else:
                        level = None
                    if level is None and msg and depth < _MAX_NESTING and (
                            msg.startswith("heartbeat: ") or _DISPATCH.get(msg[:1]) == 1):
                        nested = self._nested(msg, when, host, ident, inst, pid or inner, lineno, trunc, depth)
                        if nested is not None:
                            return nested
                    if ident is not None and "/" in ident:
                        ident = _component(ident)
                    return LogRecord(when, host, ident, inst,
                                     to_int(inner or pid or ""),
                                     level, msg, self.path, lineno,
                                     "journal" if (pid and inner) else "syslog", trunc, 1)
        elif kind == 2:
            m = _DATETAG.match(text)
            if m is not None:
                ts, script, inst, pid, lvl, msg = m.groups()
                if lvl is not None:
                    level = _LEVELS.get(lvl) or _LEVELS.get(lvl.lower())
                    if level is None:
                        msg = text[m.start(5):]
                else:
                    level = None
                if script is not None and "/" in script:
                    script = _component(script)
                # the same second again needs no work unless a year-less line moved the month meanwhile
                if ts == self.full_ts and self.full_dt.month == self.month and self.full_dt.year == self.year:
                    when = self.full_dt
                else:
                    when = self.full_time(ts)
                return LogRecord(when, None, script, inst, to_int(pid or ""),
                                 level, msg, self.path, lineno, "date-tag", trunc, 1)
            m = _RFC3339.match(text)
            if m is not None:
                return self._rfc3339(m, text, lineno, trunc)
        m = _TAGDATE.match(text)
        if m is not None:
            script, inst, pid, ts, lvl, msg = m.groups()
            level = _level(lvl)
            if lvl is not None and level is None:
                msg = text[m.start(5):]
            return LogRecord(self.full_time(ts), None, _component(script), inst,
                             to_int(pid or ""), level, msg, self.path, lineno, "tag-date", trunc, 1)
        m = _BARE.match(text)
        if m is not None:
            return LogRecord(None, None, None, None, None, _level(m.group(1)), m.group(2), self.path, lineno,
                             "bare", trunc, 1)
        m = _TAGONLY.match(text)
        if m is not None:
            script, inst, pid, lvl, msg = m.groups()
            return LogRecord(None, None, _component(script), inst, to_int(pid), _level(lvl), msg, self.path, lineno,
                             "tag", trunc, 1)
        if text.startswith("heartbeat: "):
            return self._stderr(text, None, None, None, lineno, trunc, depth)
        return None

    def _rfc3339(self, m, text: str, lineno: int, trunc: bool) -> LogRecord:
        y, mo, d, hh, mi, ss, frac, host, ident, inst, pid, inner, lvl, msg = m.groups()
        try:
            when: Optional[datetime] = datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss),
                                                int(frac[:6].ljust(6, "0")) if frac else 0)
        except ValueError:
            when = None
        if when is not None:
            self.set_full(when.year, when.month)
        level = _level(lvl)
        if lvl is not None and level is None:
            msg = text[m.start(13):]
        return LogRecord(when, host, _component(ident), inst, to_int(inner or pid or ""),
                         level, msg, self.path, lineno, "rfc3339", trunc, 1)

    def _nested(self, msg: str, when, host, ident, inst, pid, lineno: int, trunc: bool,
                depth: int) -> Optional[LogRecord]:
        """A syslog/journal line whose message is heartbeat's stderr: a whole log line, or glued stderr text."""
        if msg.startswith("heartbeat: "):
            return self._stderr(msg, when, host, pid, lineno, trunc, depth + 1)
        mark = len(self.pre)
        inner = self.parse(msg, lineno, trunc, depth + 1)
        if inner is None or inner.layout not in ("syslog", "journal", "stderr"):
            del self.pre[mark:]
            return None
        return inner

    def _stderr(self, text: str, when, host, pid, lineno: int, trunc: bool, depth: int) -> LogRecord:
        """``heartbeat: msg`` on stderr; a message printed without newline has the next one glued to it."""
        pieces: List[str] = []
        rest = text
        while rest.startswith("heartbeat: ") and len(pieces) < _MAX_GLUED:
            m = _STDERR.match(rest)
            pieces.append(m.group(1))  # type: ignore[union-attr] - always matches (|$)
            rest = rest[m.end():]  # type: ignore[union-attr]
        last = None
        if rest:
            last = self.parse(rest, lineno, trunc, depth + 1) if depth < _MAX_NESTING else None
            if last is None:
                pieces[-1] += rest
        records = []
        for piece in pieces:
            bare = _BARE.match(piece)
            records.append(LogRecord(when, host, "heartbeat", None, to_int(pid or ""),
                                     _level(bare.group(1)) if bare else None,
                                     bare.group(2) if bare else piece, self.path, lineno, "stderr", trunc, 1))
        if last is None:
            last = records.pop()
        # glued records of the parsed remainder (already in self.pre) come after ours
        self.pre[:0] = records
        return last


def decode_line(raw: bytes) -> str:
    text = decode(raw)
    return text[:-1] if text.endswith("\r") else text
