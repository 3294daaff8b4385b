"""Tuples kept on disk so the timeline's memory does not grow with the log.

:class:`Spill` appends tuples to an unlinked temporary file in pickled batches and reads them
back in the order written, any number of times, even by several readers at once (each reader
uses ``os.pread`` at its own offset). :class:`SortedSpill` is an external merge sort: sorted
runs of at most ``run_items`` tuples are written to a :class:`Spill` and merged on reading;
whenever ``fan_in`` runs of the same size class have piled up they are merged into one of the
next class (as in a log-structured merge), so there are never more than ``fan_in - 1`` runs per
class, each tuple is rewritten about log(n / run_items, fan_in) times, and a reader holds one
batch per run and the sort buffer, however many tuples were added.

>>> s = SortedSpill(key=lambda t: t[0], run_items=2, fan_in=2, batch=1)
>>> for t in [(3, "c"), (1, "a"), (2, "b"), (1, "a2"), (0, "z")]:
...     s.append(t)
>>> [t[1] for t in s], len(s)
(['z', 'a', 'a2', 'b', 'c'], 5)
>>> s.close()
"""

from __future__ import annotations

import heapq
import os
import pickle
import struct
import tempfile
from typing import Any, Callable, Generic, Iterator, List, Optional, Tuple, TypeVar

#: tuples pickled together (one read per batch)
BATCH = 128
#: tuples sorted in memory before a run is written
RUN_ITEMS = 1024
#: runs of one size class merged into one of the next class
FAN_IN = 8

_LEN = struct.Struct("<I")


class Spill:
    """Tuples in an unlinked temporary file, in the order appended."""

    def __init__(self, batch: Optional[int] = None) -> None:
        self._file = tempfile.TemporaryFile(prefix="hadoctor-timeline-")
        self._batch = batch or BATCH
        self._pending: List[Tuple] = []
        self._size = 0  # bytes written (flushed to the OS)
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def append(self, item: Tuple) -> None:
        self._pending.append(item)
        self.count += 1
        if len(self._pending) >= self._batch:
            self.flush()

    def flush(self) -> int:
        """Write the pending batch; returns the file's size (the end of what was written)."""
        if self._pending:
            data = pickle.dumps(self._pending, protocol=pickle.HIGHEST_PROTOCOL)
            self._file.write(_LEN.pack(len(data)) + data)
            self._size += _LEN.size + len(data)
            self._pending.clear()
            self._file.flush()
        return self._size

    def read(self, start: int = 0, end: Optional[int] = None) -> Iterator[Tuple]:
        """The tuples written between byte offsets ``start`` and ``end`` (default: all)."""
        stop = self.flush() if end is None else end
        fd = self._file.fileno()
        pos = start
        while pos < stop:
            (size,) = _LEN.unpack(os.pread(fd, _LEN.size, pos))
            batch = pickle.loads(os.pread(fd, size, pos + _LEN.size))
            pos += _LEN.size + size
            yield from batch

    def __iter__(self) -> Iterator[Tuple]:
        return self.read()

    def close(self) -> None:
        self._pending.clear()
        self._file.close()


class SortedSpill:
    """Tuples read back sorted by ``key`` (stable: equal keys keep the order they were added in)."""

    def __init__(self, key: Callable[[Tuple], Any], run_items: Optional[int] = None, fan_in: Optional[int] = None,
                 batch: Optional[int] = None) -> None:
        self._key = key
        self._run_items = run_items or RUN_ITEMS
        self._fan_in = max(2, fan_in or FAN_IN)
        self._batch = batch or BATCH
        self._store = Spill(batch)
        self._runs: List[Tuple[int, int, int]] = []  # size class, byte range of each sorted run in the store
        self._buffer: List[Tuple] = []
        self._sorted = True
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def append(self, item: Tuple) -> None:
        self._buffer.append(item)
        self._sorted = False
        self.count += 1
        if len(self._buffer) >= self._run_items:
            self._write_run()

    def _write_run(self) -> None:
        self._buffer.sort(key=self._key)
        self._runs.append(self._write(iter(self._buffer), 0))
        self._buffer.clear()
        tail = self._runs[-self._fan_in:]
        while len(tail) == self._fan_in and all(run[0] == tail[0][0] for run in tail):
            del self._runs[-self._fan_in:]
            self._runs.append(self._write(self._merge(tail), tail[0][0] + 1))
            tail = self._runs[-self._fan_in:]

    def _write(self, items: Iterator[Tuple], level: int) -> Tuple[int, int, int]:
        start = self._store.flush()
        for item in items:
            self._store.append(item)
        return level, start, self._store.flush()

    def _merge(self, runs: List[Tuple[int, int, int]]) -> Iterator[Tuple]:
        return heapq.merge(*(self._store.read(a, b) for _, a, b in runs), key=self._key)

    def __iter__(self) -> Iterator[Tuple]:
        if not self._sorted:
            self._buffer.sort(key=self._key)
            self._sorted = True
        if not self._runs:
            return iter(list(self._buffer))
        return heapq.merge(self._merge(self._runs), iter(list(self._buffer)), key=self._key)

    def close(self) -> None:
        self._buffer.clear()
        self._store.close()


T = TypeVar("T")


class Section(Generic[T]):
    """A sequence of objects kept as tuples in a spill (``obj.to_tuple()`` in, ``make(*tuple)`` out),
    read from disk on each iteration."""

    def __init__(self, spill: "Spill | SortedSpill", make: Callable[..., T]) -> None:
        self._spill = spill
        self._make = make

    def append(self, obj: T) -> None:
        self._spill.append(obj.to_tuple())  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self._spill)

    def __bool__(self) -> bool:
        return len(self._spill) > 0

    def __iter__(self) -> Iterator[T]:
        make = self._make
        for item in self._spill:
            yield make(*item)

    def __getitem__(self, index: int) -> T:
        """Item ``index`` (negative counts from the end); reads up to it, meant for the first few."""
        n = len(self)
        i = index + n if index < 0 else index
        if not 0 <= i < n:
            raise IndexError(index)
        for k, item in enumerate(self):
            if k == i:
                return item
        raise IndexError(index)  # pragma: no cover - the count and the spill agree

    def close(self) -> None:
        self._spill.close()
