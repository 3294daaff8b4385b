"""A node's heartbeat log as a lazy, streamable datum (logs can be gigabytes)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, Iterator, List, Optional

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
        from hadoctor.parsers.hblog import find_log_files

        paths = find_log_files(path)
        try:
            reference = datetime.fromtimestamp(os.stat(path).st_mtime)
        except OSError:
            reference = None
        return cls(paths, reference)

    def records(self, prefilter=None) -> Iterator:
        from hadoctor.parsers.hblog import iter_log

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
