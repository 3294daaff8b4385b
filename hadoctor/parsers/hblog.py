"""Heartbeat log parser: ``ha-log``, ``ha-debug`` and syslog files, streamed into :class:`LogRecord` objects.

One heartbeat log mixes several line layouts (docs/heartbeat/logs.md#line-layouts), and an authentication
failure dumps raw packet bytes over several lines (docs/heartbeat/logs.md#rejected-packets). This module is
the parser's interface; each job is a module of its own:

=============================================  ======================================================
module                                         job
=============================================  ======================================================
:mod:`~hadoctor.parsers.hblog_record`          the record model (:class:`LogRecord`) and its bounds
:mod:`~hadoctor.parsers.hblog_line`            one line into a record: the line layouts
:mod:`~hadoctor.parsers.hblog_clock`           timestamps, and the year of year-less ones
:mod:`~hadoctor.parsers.hblog_frame`           byte chunks into whole lines; the look-ahead for a full date
:mod:`~hadoctor.parsers.hblog_assemble`        lines into records: continuation lines (every line parsed)
:mod:`~hadoctor.parsers.hblog_filtered`        the same with a prefilter: only matching records' lines
:mod:`~hadoctor.parsers.hblog_prefilter`       the prefilter's fast candidate search (literals)
:mod:`~hadoctor.parsers.hblog_tags`            which records of a syslog file are the cluster's
=============================================  ======================================================

A line in no layout continues the record before it (message joined with ``\\n``)
for up to :data:`MAX_CONTINUATION_LINES` lines and :data:`MAX_CONTINUATION_BYTES`
bytes; past that, or before the first record, it is an ``unknown`` record of its
own (an ``unknown`` record takes no continuation lines). No line is dropped:
``line`` and ``nlines`` of the records cover the file.

>>> rec = parse_line(b"Nov 25 07:34:40 nodea heartbeat: [2129]: WARN: Late heartbeat: Node nodeb: interval 6000 ms",
...                  reference=datetime(2026, 11, 30))
>>> rec.time, rec.host, rec.component, rec.pid, rec.level, rec.layout
(datetime.datetime(2026, 11, 25, 7, 34, 40), 'nodea', 'heartbeat', 2129, 'warn', 'syslog')
>>> rec.message
'Late heartbeat: Node nodeb: interval 6000 ms'
>>> rec = parse_line(b"2026/11/25_07:36:14  /usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_10.77.0.100)[6191]:"
...                  b"    INFO:  Running OK")
>>> rec.component, rec.instance, rec.pid, rec.level, rec.message, rec.layout
('IPaddr', 'IPaddr_10.77.0.100', 6191, 'info', 'Running OK', 'date-tag')
"""

from __future__ import annotations

from datetime import datetime  # noqa: F401 - the doctests' reference times
from typing import Iterable, Iterator, Optional, Pattern, Tuple, Union

from hadoctor.parsers.base import Problem, shorten
from hadoctor.parsers.hblog_assemble import drain, iter_full
from hadoctor.parsers.hblog_filtered import iter_filtered
from hadoctor.parsers.hblog_frame import LOOKAHEAD_BYTES, anchored, line_blocks
from hadoctor.parsers.hblog_line import LineParser, decode_line
from hadoctor.parsers.hblog_prefilter import as_bytes_pattern, compile_prefilter
from hadoctor.parsers.hblog_record import (
    MAX_CONTINUATION_BYTES, MAX_CONTINUATION_LINES, MAX_LOG_LINE, HbLog, LogRecord, Reference, unknown_record,
)
from hadoctor.parsers.hblog_tags import CLUSTER_KERNEL, HEARTBEAT_TAGS, is_cluster_record

__all__ = [
    "LogRecord", "HbLog", "parse_line", "iter_records", "iter_candidates", "parse_hblog", "compile_prefilter",
    "MAX_LOG_LINE", "MAX_CONTINUATION_LINES", "MAX_CONTINUATION_BYTES", "LOOKAHEAD_BYTES",
    "HEARTBEAT_TAGS", "CLUSTER_KERNEL", "is_cluster_record",
]


def parse_line(line: Union[bytes, str], *, path: str = "", lineno: int = 1,
               reference: Reference = None) -> Optional[LogRecord]:
    """Parse one physical line; None when it starts no record (a continuation or unknown line).

    A line that glues several messages together gives the last one (:func:`iter_records` yields all).

    >>> parse_line(b"heartbeat[10236]: 2026/11/25_07:38:18 info: Configuration validated. Starting heartbeat 3.0.6")
    ... # doctest: +NORMALIZE_WHITESPACE
    LogRecord(time=datetime.datetime(2026, 11, 25, 7, 38, 18), host=None, component='heartbeat', instance=None,
              pid=10236, level='info', message='Configuration validated. Starting heartbeat 3.0.6', file='',
              line=1, layout='tag-date', truncated=False, nlines=1)
    >>> parse_line(b"11:(0)t=status,8:(0)st=up,%%%") is None
    True
    """
    raw = line.encode("utf-8", "surrogateescape") if isinstance(line, str) else bytes(line)
    raw = raw.rstrip(b"\n")
    trunc = len(raw) > MAX_LOG_LINE
    return LineParser(path, reference).parse(decode_line(raw[:MAX_LOG_LINE]), lineno, trunc)


def iter_records(chunks: Iterable[bytes], path: str, *, reference: Reference = None,
                 prefilter: Optional[Pattern] = None) -> Iterator[LogRecord]:
    """Stream the records of a log given as byte chunks, in file order, in constant memory.

    ``reference`` starts year inference (:mod:`hadoctor.parsers.hblog_clock`). ``prefilter`` (a compiled regex,
    see :func:`compile_prefilter`; each match must lie within one line) keeps only the
    records one of whose physical lines (head cut to MAX_LOG_LINE) it matches; only
    those lines and their neighbours are decoded (every line of a 1 MiB block where
    about a third of the lines match). Exceptions come only from ``chunks`` (e.g.
    InputError from :func:`hadoctor.inputs.safe_chunks`).

    >>> log = (b"Nov 25 07:34:40 nodea heartbeat: [2129]: ERROR: netstring authentication failed, s=###\\n"
    ...        b"11:(0)t=status,8:(0)st=up,%%%\\n"
    ...        b"Nov 25 07:34:41 nodea heartbeat: [2129]: info: Link nodeb:eth1 up.\\n")
    >>> [(r.line, r.nlines, r.level) for r in iter_records([log], "ha-log", reference=datetime(2026, 11, 30))]
    [(1, 2, 'error'), (3, 1, 'info')]
    >>> rx = compile_prefilter([rb"Link \\S+ up"])
    >>> [r.message for r in iter_records([log], "ha-log", prefilter=rx)]
    ['Link nodeb:eth1 up.']
    """
    parser = LineParser(path, reference)
    blocks = anchored(line_blocks(chunks), parser)
    if prefilter is None:
        return iter_full(blocks, parser)
    return iter_filtered(blocks, parser, as_bytes_pattern(prefilter))


def iter_candidates(head: bytes, lines: Iterable[Tuple[int, bytes, bool]], path: str, *,
                    reference: Reference = None) -> Iterator[LogRecord]:
    """The records of candidate lines another scanner found (the grep fast path of
    :mod:`hadoctor.snapshot.logsource`): ``lines`` gives (line number, raw bytes cut to MAX_LOG_LINE,
    truncated) in file order; ``head`` (the file's first LOOKAHEAD_BYTES) starts year inference as a
    full parse would. A candidate that continues a record stands alone as an ``unknown`` record (its
    text is what rules search) and a record's continuation lines are not attached.

    >>> head = b"2026/11/20_10:00:00  ResourceManager(default)[9]:    info: Acquiring resource group: x\\n"
    >>> [(r.line, r.time.year) for r in iter_candidates(head, [(7, b"Jan  3 07:00:00 n1 heartbeat: [1]: "
    ...   b"WARN: node n2: is dead", False)], "ha-log", reference=datetime(2027, 1, 5))]
    [(7, 2027)]
    """
    parser = LineParser(path, reference)
    pre = parser.pre
    for _ in anchored(line_blocks([head]), parser):
        pass
    for lineno, raw, truncated in lines:
        text = decode_line(raw)
        rec = parser.parse(text, lineno, truncated)
        if rec is None:
            yield unknown_record(text, path, lineno, truncated)
            continue
        yield from drain(pre)
        yield rec


def parse_hblog(data: bytes, path: str, *, reference: Reference = None) -> HbLog:
    """Parse a whole log held in memory (small logs, tests); truncated lines become warnings.

    >>> log = parse_hblog(b"ERROR: Configuration error, heartbeat not started.\\n", "ha-log")
    >>> [(r.layout, r.level, r.message) for r in log.records]
    [('bare', 'error', 'Configuration error, heartbeat not started.')]
    """
    model = HbLog(path)
    for rec in iter_records([data], path, reference=reference):
        model.records.append(rec)
        if rec.truncated:
            model.problems.append(Problem(path, rec.line, f"line longer than {MAX_LOG_LINE} bytes, cut",
                                          shorten(rec.message, 60), "warning", code="log-line-cut"))
    return model
