"""Reading a bundle safely: the archive is untrusted input (it comes from a customer, a ticket, a mail).

Refused, with a clear message and exit code 2 (:class:`hadoctor.errors.InputError`):

* members with an absolute path, a ``..`` component, a NUL or backslash, or an empty name;
* anything but regular files and folders: symbolic and hard links, devices, FIFOs;
* a member named twice (a later one would silently replace what an earlier one said);
* more than :data:`MAX_MEMBERS` members, more than :data:`MAX_TOTAL` bytes unpacked, one member
  over :data:`MAX_MEMBER` bytes, or (past :data:`RATIO_FLOOR` bytes) more than :data:`MAX_RATIO`
  unpacked bytes per compressed byte: decompression bombs, the outer archive and every nested
  ``.gz``/``.bz2`` log alike, measured while streaming, before anything big is written;
* a corrupt or truncated archive, and an archive that is not a hadoctor bundle (no valid
  manifest.json).

Extraction writes only below a fresh private temporary folder (removed at exit), creates files
with ``O_EXCL|O_NOFOLLOW`` and keeps each member's mtime (log year inference needs it).
"""

from __future__ import annotations

import atexit
import bz2
import gzip
import os
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator, Optional, Tuple

from hadoctor import jsondoc
from hadoctor.bundle import FORMAT, MANIFEST, MANIFEST_SHAPE
from hadoctor.errors import InputError
from hadoctor.inputs import open_regular

MAX_MEMBERS = 20000
MAX_MEMBER = 2 * 1024 ** 3
MAX_TOTAL = 4 * 1024 ** 3
MAX_RATIO = 250
RATIO_FLOOR = 64 * 1024 ** 2
CHUNK = 1 << 20
HINT_FOREIGN = "give an archive made by `hadoctor bundle create` (a .tar.gz with manifest.json)"
HINT_UNSAFE = "this archive is not what hadoctor bundle create writes; do not unpack it with other tools either"


class _Counting:
    """A raw file that counts the bytes read from it (compressed bytes, for the ratio check)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.count += len(data)
        return data


@dataclass
class Budget:
    path: str
    compressed: _Counting
    total: int = 0

    def add(self, n: int, where: str) -> None:
        self.total += n
        if self.total > MAX_TOTAL:
            raise InputError(self.path, f"unpacks to more than {MAX_TOTAL // 1024 ** 3} GiB (at {where}): refused "
                             "as a decompression bomb", HINT_UNSAFE)
        if self.total > RATIO_FLOOR and self.total > MAX_RATIO * max(self.compressed.count, 1):
            raise InputError(self.path, f"unpacks to over {MAX_RATIO} times its compressed size (at {where}): "
                             "refused as a decompression bomb", HINT_UNSAFE)


def looks_like_archive(path: str) -> bool:
    """gzip, bzip2, xz or a plain tar (ustar magic)."""
    try:
        with open_regular(path) as f:
            head = f.read(262)
    except (InputError, OSError):
        return False
    return head[:2] == b"\x1f\x8b" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00" or head[257:262] == b"ustar"


def check_name(path: str, info: tarfile.TarInfo) -> str:
    """The member's safe relative name, or InputError."""
    name = info.name
    if not name or "\0" in name or "\\" in name:
        raise InputError(path, f"member {name!r} has an invalid name: refused", HINT_UNSAFE)
    if name.startswith("/"):
        raise InputError(path, f"member {name!r} has an absolute path: refused", HINT_UNSAFE)
    parts = [p for p in PurePosixPath(name).parts if p not in (".", "")]
    if ".." in PurePosixPath(name).parts:
        raise InputError(path, f"member {name!r} climbs out of the folder ('..'): refused", HINT_UNSAFE)
    if info.issym():
        raise InputError(path, f"member {name!r} is a symbolic link (to {info.linkname!r}): refused", HINT_UNSAFE)
    if info.islnk():
        raise InputError(path, f"member {name!r} is a hard link (to {info.linkname!r}): refused", HINT_UNSAFE)
    if not (info.isreg() or info.isdir()):
        raise InputError(path, f"member {name!r} is a device, FIFO or other special file: refused", HINT_UNSAFE)
    if info.size > MAX_MEMBER:
        raise InputError(path, f"member {name!r} claims {info.size:,} bytes: refused (limit "
                         f"{MAX_MEMBER // 1024 ** 3} GiB)", HINT_UNSAFE)
    return "/".join(parts)


def iter_members(path: str) -> Iterator[Tuple[str, tarfile.TarInfo, Optional[BinaryIO], Budget]]:
    """Stream the members of an archive, each checked before it is read: (name, info, reader, budget).

    ``reader`` is None for folders. Every failure is an InputError.
    """
    raw = open_regular(path)
    counting = _Counting(raw)
    budget = Budget(path, counting)
    seen = set()
    try:
        try:
            tar = tarfile.open(fileobj=counting, mode="r|*")  # type: ignore[arg-type]
        except (tarfile.ReadError, tarfile.CompressionError, EOFError, OSError, zlib.error) as exc:
            raise InputError(path, f"not a readable archive ({_describe(exc)})", HINT_FOREIGN) from None
        count = 0
        while True:
            try:
                info = tar.next()
            except (tarfile.ReadError, EOFError, OSError, zlib.error, tarfile.HeaderError) as exc:
                raise InputError(path, f"corrupt or truncated archive ({_describe(exc)})",
                                 "copy the bundle again; the file is damaged") from None
            if info is None:
                break
            count += 1
            if count > MAX_MEMBERS:
                raise InputError(path, f"more than {MAX_MEMBERS} members: refused", HINT_UNSAFE)
            name = check_name(path, info)
            if not name:
                continue
            if name in seen:
                raise InputError(path, f"member {name!r} appears twice: refused", HINT_UNSAFE)
            seen.add(name)
            budget.add(info.size, name)
            reader = tar.extractfile(info) if info.isreg() else None
            try:
                yield name, info, reader, budget
            except (tarfile.ReadError, EOFError, zlib.error) as exc:
                raise InputError(path, f"corrupt or truncated archive at {name!r} ({_describe(exc)})",
                                 "copy the bundle again; the file is damaged") from None
        tar.close()
    finally:
        raw.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "unexpected end of data"
    return str(exc).strip() or type(exc).__name__


def read_chunks(reader: BinaryIO, name: str, budget: Budget) -> Iterator[bytes]:
    """The member's bytes in chunks (the outer budget was charged from the header)."""
    while True:
        try:
            block = reader.read(CHUNK)
        except (tarfile.ReadError, EOFError, OSError, zlib.error) as exc:
            raise InputError(budget.path, f"corrupt or truncated archive at {name!r} ({_describe(exc)})",
                             "copy the bundle again; the file is damaged") from None
        if not block:
            return
        yield block


def nested_chunks(data_path: str, name: str, budget: Budget, compressed_size: int) -> Iterator[bytes]:
    """Decompress a nested ``.gz``/``.bz2`` file (already on disk) chunk by chunk, within the budget."""
    opener = gzip.open if name.endswith(".gz") else bz2.open
    produced = 0
    try:
        with opener(data_path, "rb") as stream:
            while True:
                block = stream.read(CHUNK)
                if not block:
                    return
                produced += len(block)
                if produced > RATIO_FLOOR and produced > MAX_RATIO * max(compressed_size, 1):
                    raise InputError(budget.path, f"member {name!r} unpacks to over {MAX_RATIO} times its size: "
                                     "refused as a decompression bomb", HINT_UNSAFE)
                budget.add(len(block), name)
                yield block
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise InputError(budget.path, f"member {name!r} is a damaged compressed file ({_describe(exc)})",
                         "copy the bundle again; the file is damaged") from None


@dataclass
class OpenedBundle:
    path: str
    root: Path               # the folder holding manifest.json and the node folders
    manifest: dict


_TEMP_DIRS = []


def _cleanup() -> None:
    for d in _TEMP_DIRS:
        shutil.rmtree(d, ignore_errors=True)


def cleanup() -> None:
    """Remove every bundle unpacked so far, now: for long-lived processes (fleet workers never run atexit)."""
    while _TEMP_DIRS:
        shutil.rmtree(_TEMP_DIRS.pop(), ignore_errors=True)


def extract(path: str) -> OpenedBundle:
    """Unpack a bundle into a private temporary folder (removed at exit) and read its manifest."""
    tmp = tempfile.mkdtemp(prefix="hadoctor-bundle-")
    if not _TEMP_DIRS:
        atexit.register(_cleanup)
    _TEMP_DIRS.append(tmp)
    base = Path(tmp)
    nested = []
    for name, info, reader, budget in iter_members(path):
        target = base / name
        if info.isdir():
            _mkdirs(path, base, name)
            continue
        _mkdirs(path, base, str(PurePosixPath(name).parent))
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError as exc:
            raise InputError(path, f"cannot unpack member {name!r}: {exc.strerror}", HINT_UNSAFE) from None
        written = 0
        with os.fdopen(fd, "wb") as out:
            for block in read_chunks(reader, name, budget):
                written += len(block)
                out.write(block)
        if written != info.size:
            raise InputError(path, f"corrupt or truncated archive at {name!r}", "copy the bundle again")
        os.utime(target, (info.mtime, info.mtime))
        if name.endswith((".gz", ".bz2")):
            nested.append((str(target), name, budget, info.size))
    for data_path, name, budget, size in nested:
        for _ in nested_chunks(data_path, name, budget, size):
            pass
    root = _find_root(path, base)
    manifest = _read_manifest(path, root / MANIFEST)
    return OpenedBundle(path, root, manifest)


def _mkdirs(path: str, base: Path, rel: str) -> None:
    current = base
    for part in PurePosixPath(rel).parts:
        if part in (".", ""):
            continue
        current = current / part
        if current.is_symlink() or (current.exists() and not current.is_dir()):
            raise InputError(path, f"member {rel!r} would write through a file: refused", HINT_UNSAFE)
        try:
            current.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise InputError(path, f"cannot unpack {rel!r}: {exc.strerror}", HINT_UNSAFE) from None


def _find_root(path: str, base: Path) -> Path:
    if (base / MANIFEST).is_file():
        return base
    tops = [p for p in base.iterdir()]
    if len(tops) == 1 and tops[0].is_dir() and (tops[0] / MANIFEST).is_file():
        return tops[0]
    raise InputError(path, "not a hadoctor bundle: no manifest.json at its top", HINT_FOREIGN)


def _read_manifest(path: str, file: Path) -> dict:
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(path, f"manifest.json is unreadable ({exc.strerror})", HINT_FOREIGN) from None
    try:
        doc = jsondoc.load(data, MANIFEST, jsondoc.Obj({"format": str}, required=("format",)))
    except InputError as exc:
        raise InputError(path, f"not a hadoctor bundle: manifest.json: {exc.reason}", HINT_FOREIGN) from None
    if doc["format"] != FORMAT:
        raise InputError(path, f"not a hadoctor bundle: manifest format {doc['format']!r}, expected {FORMAT!r}",
                         HINT_FOREIGN)
    try:
        return jsondoc.load(data, MANIFEST, MANIFEST_SHAPE)
    except InputError as exc:
        raise InputError(path, f"manifest.json is damaged: {exc.reason}", "collect the bundle again") from None

