"""Multi-line assembly with a prefilter: only the records one of whose lines the prefilter matches, parsing
only those lines and their neighbours (the lines that decide each record's extent); the same records, in
the same order, as the full path (:mod:`hadoctor.parsers.hblog_assemble`) filtered that way. Candidate
lines come from :mod:`hadoctor.parsers.hblog_prefilter`'s scanner.

>>> from hadoctor.parsers.hblog_line import LineParser
>>> from hadoctor.parsers.hblog_prefilter import compile_prefilter
>>> buf = (b"Nov 25 07:34:40 nodea heartbeat: [2129]: info: Status update for node nodeb: status active\\n"
...        b"Nov 25 07:34:41 nodea heartbeat: [2129]: info: Link nodeb:eth1 up.\\n")
>>> [r.line for r in iter_filtered(iter([(buf, 0, len(buf))]), LineParser("ha-log", None),
...                                compile_prefilter([rb"Link \\S+ up"]))]
[2]
"""

from __future__ import annotations

from typing import Iterator, List, Optional, Pattern, Tuple

from hadoctor.parsers.hblog_assemble import OpenRecord, drain, run_lines
from hadoctor.parsers.hblog_frame import Block, take_line
from hadoctor.parsers.hblog_line import LineParser
from hadoctor.parsers.hblog_prefilter import scanner_for
from hadoctor.parsers.hblog_record import (
    MAX_CONTINUATION_BYTES, MAX_CONTINUATION_LINES, MAX_LOG_LINE, LogRecord, close_record, unknown_record,
)

#: With a prefilter, a block with a candidate line every this many bytes or more is parsed line by line
#: (cheaper than looking at each match and its neighbours when about a third of the lines match).
DENSE_BYTES_PER_CANDIDATE = 320


def dense_block(buf: bytes, s: int, e: int, lineno: int, found: List[Tuple[int, int]], parser: LineParser,
                confirm) -> Iterator[LogRecord]:
    """Prefilter path for a block where many lines match: parse every line, as the full path does.

    Yields the selected records that end in this block; returns the record still open at its end.
    """
    data = buf[s:e]
    lines = data.split(b"\n")
    lines.pop()
    cap = MAX_LOG_LINE
    matched = set()
    offset, index = s, 0
    for line_start, key in found:
        while offset < line_start:
            offset += len(lines[index]) + 1
            index += 1
        raw = lines[index]
        if confirm(raw if len(raw) <= cap else raw[:cap], key):
            matched.add(index)
    return (yield from run_lines(lines, lineno, parser, None, matched, b"\r" in data))


def walk_back(buf: bytes, s: int, e: int, done: int, q: int, qln: int, walked: List[str], nbytes: int,
              ctrunc: bool, parse, pre: List[LogRecord]):
    """From the line before position ``q`` (line ``qln``) walk back, within the continuation limits and not
    before ``done``, to the record those lines continue: (its head record or None, the lines walked, last
    first, their bytes, whether one was truncated). The head's glued records are dropped."""
    while len(walked) <= MAX_CONTINUATION_LINES and nbytes <= MAX_CONTINUATION_BYTES and q > done:
        nl = buf.rfind(b"\n", s, q - 1)
        pq = s if nl < 0 else nl + 1
        if pq < done:
            break
        _, ptext, pn, ptrunc, _ = take_line(buf, pq, e)
        prec = parse(ptext, qln - 1, ptrunc)
        if prec is not None:
            pre.clear()  # its glued records are not selected by these lines
            return prec, walked, nbytes, ctrunc
        walked.append(ptext)
        nbytes += pn + 1
        ctrunc = ctrunc or ptrunc
        q, qln = pq, qln - 1
    return None, walked, nbytes, ctrunc


def iter_filtered(blocks: Iterator[Block], parser: LineParser, prefilter: Pattern[bytes]) -> Iterator[LogRecord]:
    """Yield the records one of whose kept lines ``prefilter`` matches, parsing only those and their neighbours.

    Same records, in the same order, as the full parse filtered that way; for the year, see
    :mod:`hadoctor.parsers.hblog_clock`.
    """
    scanner = scanner_for(prefilter)
    verify, candidates, confirm = prefilter.search, scanner.candidates, scanner.confirm
    parse = parser.parse
    pre = parser.pre
    path = parser.path
    max_lines, max_bytes = MAX_CONTINUATION_LINES, MAX_CONTINUATION_BYTES
    next_ln = 1
    tail: Optional[OpenRecord] = None
    for buf, s, e in blocks:
        pos, ln = s, next_ln
        # a start line parsed ahead: (position, line number, take_line() of it, record, glued records)
        cached = None
        if parser.fresh and tail is None:
            # the file's first record starts year inference, as in a full parse
            q, qln = s, ln
            while q < e and qln - ln <= max_lines:
                took = take_line(buf, q, e)
                rec = parse(took[1], qln, took[3])
                if rec is not None:
                    cached = (q, qln, took, rec, drain(pre))
                    break
                q, qln = took[4], qln + 1
        # (A) lines that continue the record left open by the previous block
        if tail is not None:
            while pos < e:
                took = raw, text, n, trunc, nxt = take_line(buf, pos, e)
                rec = parse(text, ln, trunc)
                if rec is not None:
                    cached = (pos, ln, took, rec, drain(pre))
                    break
                if not tail.fits(n):
                    break
                tail.add(text, n, trunc)
                if not tail.selected and verify(raw) is not None:
                    tail.selected = True
                pos, ln = nxt, ln + 1
            if pos >= e:
                next_ln = ln
                continue
            if tail.selected:
                yield tail.close()
            tail = None
        found = candidates(buf, pos, e)
        if len(found) * DENSE_BYTES_PER_CANDIDATE > e - pos:
            tail = yield from dense_block(buf, pos, e, ln, found, parser, confirm)
            next_ln = ln + buf.count(b"\n", pos, e)
            continue
        done = pos  # lines before this are handled
        cnt_pos, cnt_ln = pos, ln
        # (B) the lines the prefilter matches, with the record each belongs to
        for ls, key in found:
            if ls < done:
                continue
            if cached is not None and cached[0] == ls:
                raw, text, n, trunc, after = cached[2]
                if not confirm(raw, key):
                    continue
                lnum, rec, frags = cached[1], cached[3], cached[4]
            else:
                raw, text, n, trunc, after = take_line(buf, ls, e)
                if not confirm(raw, key):
                    continue
                lnum = cnt_ln + buf.count(b"\n", cnt_pos, ls)
                rec = parse(text, lnum, trunc)
                frags = drain(pre) if rec is not None else []
            cnt_pos, cnt_ln = ls, lnum
            cont: List[str] = []
            nbytes, ctrunc = 0, False
            if rec is not None:
                head = rec
            else:
                # walk back to the record this line continues, within the continuation limits
                head, walked, nbytes, ctrunc = walk_back(buf, s, e, done, ls, lnum, [text], n + 1, trunc, parse, pre)
                if head is None:
                    yield unknown_record(text, path, lnum, trunc)
                    done = after
                    continue
                walked.reverse()
                cont = walked
            # forward: the rest of the record
            q, qln = after, lnum + 1
            cached = None
            while q < e:
                took = raw2, text2, n2, trunc2, nxt2 = take_line(buf, q, e)
                rec2 = parse(text2, qln, trunc2)
                if rec2 is not None:
                    cached = (q, qln, took, rec2, drain(pre))
                    break
                if len(cont) >= max_lines or nbytes + n2 + 1 > max_bytes:
                    break
                cont.append(text2)
                nbytes += n2 + 1
                ctrunc = ctrunc or trunc2
                q, qln = nxt2, qln + 1
            yield from frags
            if q >= e:
                tail = OpenRecord(head, cont, nbytes, ctrunc, True)
                done, cnt_pos, cnt_ln = e, e, qln
                break
            yield close_record(head, cont, ctrunc) if cont else head
            done, cnt_pos, cnt_ln = q, q, qln
        next_ln = cnt_ln + buf.count(b"\n", cnt_pos, e)
        # (C) the block's last record may go on in the next block; parsing it also keeps the year current
        if tail is None:
            prec, walked, nbytes, ctrunc = walk_back(buf, s, e, done, e, next_ln, [], 0, False, parse, pre)
            if prec is not None:
                walked.reverse()
                tail = OpenRecord(prec, walked, nbytes, ctrunc, False)
    if tail is not None and tail.selected:
        yield tail.close()
