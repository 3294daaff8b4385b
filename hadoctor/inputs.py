"""Reading input files safely: every failure becomes an :class:`InputError` with a clear reason.

Config artefacts are small, so they are read whole (with a size cap). Logs are
streamed by :mod:`hadoctor.parsers.hblog` through :func:`open_stream`, which also
opens rotated ``.gz``/``.bz2`` files.
"""

from __future__ import annotations

import bz2
import errno
import gzip
import io
import os
import stat
from typing import BinaryIO

from hadoctor.errors import InputError

#: Largest config file (ha.cf, haresources, authkeys, ip a output) read whole.
MAX_CONFIG_BYTES = 16 * 1024 * 1024


def under_root(root: str, path: str) -> str:
    """An absolute host path seen below ``root`` (``--root``: a copy of a node's file system, tests).

    >>> under_root("/", "/etc/ha.d/ha.cf"), under_root("/srv/n1/", "/etc/ha.d/ha.cf")
    ('/etc/ha.d/ha.cf', '/srv/n1/etc/ha.d/ha.cf')
    """
    if not root or root == "/":
        return path
    return os.path.join(root, path.lstrip("/"))


def _reason(exc: OSError, path: str = "") -> tuple[str, str]:
    if exc.errno == errno.ENOENT:
        return "no such file", "check the path, or give the folder that holds the file"
    if exc.errno == errno.EISDIR:
        return "is a directory, not a file", "name the file inside it"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied", _permission_hint(path)
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is not a directory", ""
    return exc.strerror or str(exc), ""


def _permission_hint(path: str) -> str:
    """What to do about a file we may not read, saying what its mode and owner are when stat can tell.

    >>> _permission_hint("/nonexistent/dir/x")
    'run as a user that can read it (or root), or copy the file somewhere readable'
    """
    try:
        st = os.stat(path)
    except OSError:
        st = None
    name = os.path.basename(path)
    if st is None:
        what = ""
    else:
        import grp
        import pwd

        try:
            owner = pwd.getpwuid(st.st_uid).pw_name
        except KeyError:
            owner = str(st.st_uid)
        try:
            group = grp.getgrgid(st.st_gid).gr_name
        except KeyError:
            group = str(st.st_gid)
        what = f"{name} is {st.st_mode & 0o7777:04o} {owner}:{group}"
    if name == "authkeys":  # heartbeat itself refuses an authkeys that others may read (LOG043)
        return (what + "; " if what else "") + "run as root (heartbeat needs authkeys readable by root alone), " \
            "or copy the file somewhere readable; keep the original 0600"
    return (what + ": " if what else "") + "run as a user that can read it (or root), or copy the file somewhere " \
        "readable"


def read_bytes(path: str, limit: int = MAX_CONFIG_BYTES) -> bytes:
    """Return the file's bytes, decompressing ``.gz``/``.bz2``; raise InputError on any failure."""
    with open_stream(path) as stream:
        try:
            data = stream.read(limit + 1)
        except (OSError, EOFError, ValueError) as exc:  # truncated or corrupt archive
            raise InputError(path, f"cannot read: {_describe_decompress_error(exc)}",
                             "the file is damaged or truncated; copy it again from the node") from None
    if len(data) > limit:
        raise InputError(path, f"larger than {limit // (1024 * 1024)} MiB; this is not a config file",
                         "check that the right file was named")
    return data


def _describe_decompress_error(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "compressed file is truncated"
    return str(exc) or type(exc).__name__


def open_regular(path: str) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file; InputError for anything else.

    Opened with O_NONBLOCK first, so that a FIFO (or a device) named like an input never blocks in
    ``open()``; fstat on the descriptor then decides (no race with a rename), and the descriptor is
    made blocking again for the read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        reason, hint = _reason(exc, path)
        raise InputError(path, reason, hint) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(path, *_reason(IsADirectoryError(errno.EISDIR, "Is a directory", path), path))
        if not stat.S_ISREG(mode):
            kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                    else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file")
            raise InputError(path, f"is {kind}, not a regular file: not read",
                             "copy the file's contents into a regular file and name that")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_stream(path: str) -> BinaryIO:
    """Open ``path`` for binary reading; ``.gz`` and ``.bz2`` are decompressed transparently.

    Errors in opening are raised as InputError. Errors *while reading* a
    compressed stream (truncation) surface as OSError/EOFError from ``read``;
    callers that stream use :func:`safe_chunks`.
    """
    raw = open_regular(path)
    try:
        magic = raw.peek(3)[:3] if hasattr(raw, "peek") else b""
    except OSError as exc:
        raw.close()
        reason, hint = _reason(exc, path)
        raise InputError(path, reason, hint) from None
    if magic[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if magic == b"BZh":
        return bz2.BZ2File(raw, mode="rb")  # type: ignore[return-value]
    return raw  # type: ignore[return-value]


def safe_chunks(stream: BinaryIO, path: str, size: int = 1 << 20):
    """Yield blocks of ``size`` bytes; a damaged compressed stream ends with InputError."""
    while True:
        try:
            block = stream.read(size)
        except (OSError, EOFError, ValueError, io.UnsupportedOperation) as exc:
            raise InputError(path, f"cannot read: {_describe_decompress_error(exc)}",
                             "the file is damaged or truncated; copy it again from the node") from None
        if not block:
            return
        yield block


def read_config(path: str, *, allow_empty: bool = True) -> bytes:
    """Read a small text artefact (ha.cf, haresources, authkeys, ip a, ...) and refuse what cannot be one.

    A file with NUL bytes or mostly invalid UTF-8 is binary; a line over 64 KiB is no config line.
    The parsers would survive both, but the user named the wrong file and should hear so.
    """
    data = read_bytes(path)
    if not data.strip():
        if allow_empty:
            return data
        raise InputError(path, "the file is empty", "name the file that holds the configuration")
    head = data[:65536]
    if b"\0" in head or _invalid_utf8_share(head) > 0.3:
        raise InputError(path, "does not look like a text file (binary content)",
                         "check that the right file was named")
    longest = max(len(line) for line in data.split(b"\n"))
    if longest > 65536:
        number = next(i for i, line in enumerate(data.split(b"\n"), 1) if len(line) == longest)
        raise InputError(path, f"line {number} is {longest:,} bytes long: this is not a heartbeat config or "
                         f"command output", "check that the right file was named")
    return data


def _invalid_utf8_share(data: bytes) -> float:
    if not data:
        return 0.0
    text = data.decode("utf-8", errors="replace")
    return text.count("\ufffd") / max(len(text), 1)
