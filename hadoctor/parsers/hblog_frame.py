"""Framing a heartbeat log: byte chunks into blocks of whole lines, one line out of a block, and the look
ahead that starts year inference (:mod:`hadoctor.parsers.hblog_clock`) from the first full date.

Lines are bytes: the daemon writes raw binary into some records, so text is
decoded as UTF-8 with ``surrogateescape`` (never raises; every byte recoverable).
Lines longer than :data:`~hadoctor.parsers.hblog_record.MAX_LOG_LINE` keep their head, are marked
``truncated``, and the rest is skipped without being buffered.

>>> [(buf[s:e]) for buf, s, e in line_blocks([b"Nov 25 07:34:40 nodea heartbeat: [2129]: info: Link nodeb:eth1 ",
...                                             b"up.\\nNov 25 07:34:41 nodea"])]
[b'Nov 25 07:34:40 nodea heartbeat: [2129]: info: Link nodeb:eth1 up.\\n', b'Nov 25 07:34:41 nodea\\n']
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator, List, Optional, Tuple

from hadoctor.parsers.hblog_line import LineParser, decode_line
from hadoctor.parsers.hblog_record import MAX_LOG_LINE

#: How far ahead the parser looks for a full date to start year inference from.
LOOKAHEAD_BYTES = 1 << 20

# where to look for the first full date (to start year inference)
FULL_DATE_HINT = re.compile(rb"\d{4}/\d\d/\d\d_\d\d:\d\d:\d\d|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d")
FULL_DATE_LAYOUTS = frozenset(("tag-date", "date-tag", "rfc3339"))

Block = Tuple[bytes, int, int]


def line_blocks(chunks: Iterable[bytes]) -> Iterator[Block]:
    """Yield ``(buf, start, end)``: ``buf[start:end]`` holds whole lines, each ending in ``\\n``.

    A line longer than MAX_LOG_LINE spanning chunks is cut to MAX_LOG_LINE + 1 bytes
    (so its length still says "truncated") and the rest is skipped unbuffered.
    """
    cap = MAX_LOG_LINE
    carry = b""
    skipping = False
    for chunk in chunks:
        if not chunk:
            continue
        start = 0
        if skipping:
            nl = chunk.find(b"\n")
            if nl < 0:
                continue
            skipping = False
            yield carry + b"\n", 0, len(carry) + 1
            carry = b""
            start = nl + 1
        last = chunk.rfind(b"\n", start)
        if last < 0:
            carry += chunk[start:] if start else chunk
            if len(carry) > cap:
                carry, skipping = carry[:cap + 1], True
            continue
        if carry:
            nl = chunk.find(b"\n", start)
            head = carry + chunk[start:nl + 1]
            carry = b""
            yield head, 0, len(head)
            start = nl + 1
        if last + 1 > start:
            yield chunk, start, last + 1
        carry = chunk[last + 1:]
        if len(carry) > cap:
            carry, skipping = carry[:cap + 1], True
    if carry:
        yield carry + b"\n", 0, len(carry) + 1


def anchored(blocks: Iterator[Block], parser: LineParser) -> Iterator[Block]:
    """Look through the first LOOKAHEAD_BYTES for a full date and start year inference from it."""
    held: List[Block] = []
    size = 0
    failure: Optional[Exception] = None
    try:
        for block in blocks:
            held.append(block)
            size += block[2] - block[1]
            if size >= LOOKAHEAD_BYTES:
                break
    except Exception as exc:  # noqa: BLE001 - e.g. a truncated .gz: the lines read so far still count
        failure = exc
    probe = LineParser("", None)
    probes = 0
    for buf, start, end in held:
        for m in FULL_DATE_HINT.finditer(buf, start, end):
            probes += 1
            if probes > 64:
                break
            nl = buf.rfind(b"\n", start, m.start())
            line_start = start if nl < 0 else nl + 1
            line_end = buf.find(b"\n", m.start(), end)
            text = decode_line(buf[line_start:min(line_end, line_start + MAX_LOG_LINE)])
            rec = probe.parse(text, 0, False)
            if rec is not None and rec.layout in FULL_DATE_LAYOUTS and rec.time is not None:
                parser.anchor(rec.time)
                probes = 1 << 30
                break
        if probes > 64:
            break
    yield from held
    del held
    if failure is not None:
        raise failure
    yield from blocks


def take_line(buf: bytes, pos: int, end: int) -> Tuple[bytes, str, int, bool, int]:
    """The line at ``pos``: (raw bytes kept, text, kept length, truncated, next line's start)."""
    nl = buf.find(b"\n", pos, end)
    if nl - pos > MAX_LOG_LINE:
        raw, trunc = buf[pos:pos + MAX_LOG_LINE], True
    else:
        raw, trunc = buf[pos:nl], False
    return raw, decode_line(raw), len(raw), trunc, nl + 1
