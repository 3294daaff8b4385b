"""A node's heartbeat log as a lazy, streamable datum (logs can be gigabytes), and the file side of
reading it: the rotated siblings, opening (plain, .gz, .bz2), and the grep fast path for big plain
files (:mod:`hadoctor.snapshot.log_grep`). The parsing itself is :mod:`hadoctor.parsers.hblog`'s
(bytes in, records out).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Dict, Iterator, List, Optional, Pattern, Sequence, Union

Reference = Union[datetime, date, None]

from hadoctor.errors import InputError
from hadoctor.inputs import open_regular


@dataclass
class LogSource:
    """The files making up one node's log, oldest first; read only when a rule streams it."""

    paths: List[str]
    reference: Optional[datetime] = None  # newest file's mtime: anchors year inference
    notes: List[str] = field(default_factory=list)
    #: real path -> the path shown in evidence (a bundle's files are read from a private unpack folder)
    display: Dict[str, str] = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_path(cls, path: str) -> "LogSource":
        paths = find_log_files(path)
        try:
            reference = datetime.fromtimestamp(os.stat(path).st_mtime)
        except OSError:
            reference = None
        return cls(paths, reference)

    def records(self, prefilter=None) -> Iterator:
        records = iter_log(self.paths, reference=self.reference, prefilter=prefilter)
        return self._shown(records) if self.display else records

    def _shown(self, records: Iterator) -> Iterator:
        for rec in records:
            rec.file = self.display.get(rec.file, rec.file)
            yield rec

    def end_time(self, tail_bytes: int = 256 * 1024) -> Optional[datetime]:
        """The time of the last dated record, read once from the tail of the newest file (cheap)."""
        if "end" not in self._cache:
            self._cache["end"] = self._read_end_time(tail_bytes)
        return self._cache["end"]

    def _read_end_time(self, tail_bytes: int) -> Optional[datetime]:
        from hadoctor.parsers.hblog import iter_records

        if not self.paths:
            return None
        newest = self.paths[-1]
        try:
            with open_regular(newest) as handle:
                if handle.read(2) == b"\x1f\x8b":
                    return None
                size = os.fstat(handle.fileno()).st_size
                handle.seek(max(0, size - tail_bytes))
                tail = handle.read()
        except (InputError, OSError):
            return None
        if size > tail_bytes:
            tail = tail[tail.find(b"\n") + 1:]
        last = None
        for record in iter_records([tail], newest, reference=self.reference):
            if record.time is not None and (last is None or record.time > last):
                last = record.time
        return last

    @property
    def size(self) -> int:
        total = 0
        for path in self.paths:
            try:
                total += os.stat(path).st_size
            except OSError:
                pass
        return total

    def to_dict(self) -> dict:
        return {"paths": self.paths, "bytes": self.size,
                "reference": self.reference.isoformat(timespec="seconds") if self.reference else None}


def _mtime(path: str) -> Optional[datetime]:
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime)
    except (OSError, ValueError, OverflowError):
        return None


def iter_log_file(path: str, *, reference: Reference = None, prefilter: Optional[Pattern] = None,
                  chunk_size: int = 1 << 20) -> Iterator:
    """Stream one log file's records (plain, ``.gz`` or ``.bz2``); ``reference`` defaults to its mtime.

    With a ``prefilter`` a big plain file's candidate lines come from grep (:mod:`.log_grep`).
    Raises :class:`hadoctor.errors.InputError` if the file cannot be opened, or, after the
    records read so far, if a compressed file turns out truncated or corrupt.
    """
    from hadoctor.inputs import open_stream, safe_chunks
    from hadoctor.parsers.hblog import iter_records
    from hadoctor.parsers.hblog_prefilter import as_bytes_pattern, scanner_for
    from hadoctor.snapshot.log_grep import grep_usable

    ref = reference if reference is not None else _mtime(path)
    if prefilter is not None:
        pattern = as_bytes_pattern(prefilter)
        literals = scanner_for(pattern).literals
        if grep_usable(path, literals):
            yield from _iter_grep(path, ref, pattern, literals)
            return
    stream = open_stream(path)
    with stream:
        yield from iter_records(safe_chunks(stream, path, chunk_size), path, reference=ref, prefilter=prefilter)


def _iter_grep(path: str, reference: Reference, prefilter: "Pattern[bytes]", literals) -> Iterator:
    """The prefilter path for a big plain file, with grep as the literal scanner (see log_grep)."""
    from hadoctor.errors import InputError
    from hadoctor.parsers.hblog import LOOKAHEAD_BYTES, MAX_LOG_LINE, iter_candidates
    from hadoctor.snapshot.log_grep import iter_grep_candidates

    try:
        with open(path, "rb") as handle:  # year inference starts as the in-process path does
            head = handle.read(LOOKAHEAD_BYTES)
        yield from iter_candidates(head, iter_grep_candidates(path, literals, prefilter, MAX_LOG_LINE), path,
                                   reference=reference)
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc}") from None


def iter_log(paths: Sequence[str], **kw) -> Iterator:
    """Stream several files in the given order (oldest first, see :func:`find_log_files`) as one sequence.

    Each record keeps its own file and line; each file starts its own year inference.
    """
    for path in paths:
        yield from iter_log_file(path, **kw)


_ROTATED = r"(?:\.(\d+)|-(\d{8,}))(?:\.(?:gz|bz2))?"


def find_log_files(path: str) -> List[str]:
    """The log and its rotated siblings, oldest first.

    Numbered siblings (``.1``, ``.2.gz``, ``.3.bz2``: highest number oldest) come first,
    then dated ones (``-20261124``, ``-20261124.gz``: by date), then ``path`` itself.
    ``[path]`` when nothing exists, so that opening it reports the error.
    """
    folder, name = os.path.split(path)
    pattern = re.compile(re.escape(name) + _ROTATED)
    try:
        names = os.listdir(folder or ".")
    except OSError:
        names = []
    numbered, dated = [], []
    for entry in names:
        m = pattern.fullmatch(entry)
        if m is None or not os.path.isfile(os.path.join(folder, entry)):
            continue
        if m.group(1) is not None:
            numbered.append((-int(m.group(1)), entry))
        else:
            dated.append((m.group(2), entry))
    found = [os.path.join(folder, entry) for _, entry in sorted(numbered) + sorted(dated)]
    if os.path.exists(path) or not found:
        found.append(path)
    return found
