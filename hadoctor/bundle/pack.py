"""The last steps of ``bundle create``: scrub the known secrets from every member, pack the archive."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import time
from pathlib import Path
from typing import List, Set

from hadoctor.bundle import MANIFEST, redact


def hostlike(value: str, names: Set[str]) -> bool:
    """stonith_host parameters that are host names or addresses are masked in ha.cf but not scrubbed
    everywhere (a node name in every log line is no secret)."""
    import ipaddress

    if value.lower() in names:
        return True
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return value.isdigit()


def scrub_tree(staging: Path, scrub: List[bytes]) -> int:
    if not scrub:
        return 0
    total = 0
    for path in sorted(staging.rglob("*")):
        if not path.is_file():
            continue
        st = path.stat()
        compressed = path.name.endswith(".gz")
        data = path.read_bytes()
        plain = gzip.decompress(data) if compressed else data
        cleaned, n = redact.scrub(plain, scrub)
        if n:
            total += n
            path.write_bytes(gzip.compress(cleaned, 6, mtime=int(st.st_mtime)) if compressed else cleaned)
            os.utime(path, (st.st_atime, st.st_mtime))
    return total


def pack(staging: Path, manifest: dict, output: str, top: str) -> None:
    """Write the archive (mode 0600): manifest.json first, then each node folder, members owned by root,
    regular files and folders only."""
    tmp = output + ".part"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    now = time.time()

    def add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), int(mtime), 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        tar.addfile(info, io.BytesIO(data))

    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=int(now)) as gz, \
                tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            public = {k: v for k, v in manifest.items() if not k.startswith("_")}
            add_bytes(tar, f"{top}/{MANIFEST}", (json.dumps(public, indent=1) + "\n").encode(), now)
            for path in sorted(staging.rglob("*")):
                rel = path.relative_to(staging).as_posix()
                if path.is_dir():
                    info = tarfile.TarInfo(f"{top}/{rel}")
                    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, int(now)
                    info.uname = info.gname = "root"
                    tar.addfile(info)
                elif path.is_file():
                    add_bytes(tar, f"{top}/{rel}", path.read_bytes(), path.stat().st_mtime)
        os.replace(tmp, output)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
