"""Writing a report file so that a reader never sees half of it (node_exporter's textfile collector,
a monitoring agent reading a status file)."""

from __future__ import annotations

import os


def write_atomically(path: str, text: str) -> None:
    """Write ``path`` so a reader sees the old file or the new one, never a part: a temp file in the
    same folder (not ending in .prom, so the textfile collector ignores it), fsync, rename."""
    import tempfile

    from hadoctor.errors import InputError

    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    except OSError as exc:
        raise InputError(path, f"cannot write in {folder}: {exc.strerror}", "give a writable --output path")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise InputError(path, f"cannot write: {exc.strerror}", "give a writable --output path")
