"""Multi-line assembly: physical lines into records. A line in no layout continues the record before it
(message joined with ``\\n``), within the continuation limits of :mod:`hadoctor.parsers.hblog_record`;
past them, or before the first record, it is an ``unknown`` record of its own. No line is dropped.
This is the full path (every line parsed); :mod:`hadoctor.parsers.hblog_filtered` is the prefiltered one.

>>> from hadoctor.parsers.hblog_line import LineParser
>>> data = (b"Nov 25 07:34:40 nodea heartbeat: [2129]: ERROR: netstring authentication failed, s=###\\n"
...         b"11:(0)t=status,8:(0)st=up,%%%\\n")
>>> [(r.line, r.nlines, r.level) for r in iter_full([(data, 0, len(data))], LineParser("ha-log", None))]
[(1, 2, 'error')]
"""

from __future__ import annotations

from typing import Iterator, List, Optional

from hadoctor.parsers.hblog_frame import Block
from hadoctor.parsers.hblog_line import LineParser
from hadoctor.parsers.hblog_record import (
    MAX_CONTINUATION_BYTES, MAX_CONTINUATION_LINES, MAX_LOG_LINE, LogRecord, close_record, unknown_record,
)


def run_lines(lines: List[bytes], lineno: int, parser: LineParser, tail: Optional["OpenRecord"],
              matched: Optional[set], has_cr: bool) -> Iterator[LogRecord]:
    """Parse whole lines (the first is line ``lineno``) continuing the record ``tail`` left open before them.

    Yields the records that end here and are selected: all of them when ``matched`` is None,
    else those with a line whose index is in ``matched``. Returns the record still open.
    """
    parse, pre, path = parser.parse, parser.pre, parser.path
    cap, max_lines, max_bytes = MAX_LOG_LINE, MAX_CONTINUATION_LINES, MAX_CONTINUATION_BYTES
    if tail is not None:
        pend, cont, cbytes, ctrunc, sel = tail.rec, tail.cont, tail.nbytes, tail.trunc, tail.selected
    else:
        pend, cont, cbytes, ctrunc, sel = None, [], 0, False, False
    everything = matched is None
    index = -1
    for raw in lines:
        index += 1
        n = len(raw)
        if n > cap:
            raw, n, trunc = raw[:cap], cap, True
        else:
            trunc = False
        text = raw.decode("utf-8", "surrogateescape")  # = base.decode, inlined: hot loop
        if has_cr and text[-1:] == "\r":
            text = text[:-1]
        hit = everything or index in matched  # type: ignore[operator]
        rec = parse(text, lineno + index, trunc)
        if rec is not None:
            if pend is not None and sel:
                yield close_record(pend, cont, ctrunc) if cont else pend
            if pre:
                if hit:
                    yield from pre
                pre.clear()
            pend, sel = rec, hit
            if cont:
                cont = []
            cbytes, ctrunc = 0, False
        elif pend is not None and len(cont) < max_lines and cbytes + n + 1 <= max_bytes:
            cont.append(text)
            cbytes += n + 1
            if trunc:
                ctrunc = True
            if hit:
                sel = True
        else:
            if pend is not None:
                if sel:
                    yield close_record(pend, cont, ctrunc) if cont else pend
                pend, cont = None, []
            if hit:
                yield unknown_record(text, path, lineno + index, trunc)
    return OpenRecord(pend, cont, cbytes, ctrunc, sel) if pend is not None else None


def iter_full(blocks: Iterator[Block], parser: LineParser) -> Iterator[LogRecord]:
    lineno = 1
    tail: Optional[OpenRecord] = None
    for buf, start, end in blocks:
        data = buf if (start == 0 and end == len(buf)) else buf[start:end]
        lines = data.split(b"\n")
        lines.pop()
        tail = yield from run_lines(lines, lineno, parser, tail, None, b"\r" in data)
        lineno += len(lines)
    if tail is not None:
        yield tail.close()


class OpenRecord:
    """A record whose continuation lines may go on in the next block (prefilter path)."""

    __slots__ = ("rec", "cont", "nbytes", "trunc", "selected")

    def __init__(self, rec: LogRecord, cont: List[str], nbytes: int, trunc: bool, selected: bool) -> None:
        self.rec, self.cont, self.nbytes, self.trunc, self.selected = rec, cont, nbytes, trunc, selected

    def fits(self, n: int) -> bool:
        return len(self.cont) < MAX_CONTINUATION_LINES and self.nbytes + n + 1 <= MAX_CONTINUATION_BYTES

    def add(self, text: str, n: int, trunc: bool) -> None:
        self.cont.append(text)
        self.nbytes += n + 1
        self.trunc = self.trunc or trunc

    def close(self) -> LogRecord:
        return close_record(self.rec, self.cont, self.trunc)


def drain(pre: List[LogRecord]) -> List[LogRecord]:
    if not pre:
        return []
    out = pre[:]
    pre.clear()
    return out
