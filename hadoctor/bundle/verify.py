"""``hadoctor bundle verify``: scan every byte of every member for secrets and original addresses/names.

Every member is read whole, nested ``.gz``/``.bz2`` files decompressed too (with the same bomb limits
as ``check``). A secret counts anywhere (plain bytes, case-sensitive); a mapped original address
counts as an address token (``10.0.0.1`` does not match inside ``10.0.0.12``; IPv6 in any spelling);
a mapped original name counts as a word, case-insensitively.

Exit codes: 0 nothing found; 4 a leak was found (each named: member, line, which secret by its
number, never its value); 2 the archive is unsafe, corrupt or not a bundle, or bad usage.
"""

from __future__ import annotations

import bz2
import gzip
import ipaddress
import json
import re
import zlib
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from hadoctor.bundle.archive import (
    HINT_UNSAFE,
    MAX_RATIO,
    RATIO_FLOOR,
    iter_members,
    read_chunks,
)
from hadoctor.bundle.obfuscate import IPV4_PATTERN, IPV6_PATTERN
from hadoctor.errors import InputError, UsageError

EXIT_CLEAN = 0
EXIT_LEAK = 4
MAX_SCAN_MEMBER = 512 * 1024 ** 2
_V4 = re.compile(IPV4_PATTERN.encode())
_V6 = re.compile(IPV6_PATTERN.encode())


@dataclass
class Leak:
    member: str
    line: int
    what: str          # "secret #2 (--secret)", "address 10.0.0.1", "name db-a"

    def to_dict(self) -> dict:
        return {"member": self.member, "line": self.line, "what": self.what}


@dataclass
class VerifyReport:
    path: str
    members: int = 0
    bytes_scanned: int = 0
    leaks: List[Leak] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_LEAK if self.leaks else EXIT_CLEAN

    def to_dict(self) -> dict:
        return {"schema": "hadoctor-bundle-verify/1", "archive": self.path, "members": self.members,
                "bytes_scanned": self.bytes_scanned, "clean": not self.leaks,
                "leaks": [x.to_dict() for x in self.leaks], "exit_code": self.exit_code}


def load_secrets(values: Sequence[str], files: Sequence[str]) -> List[Tuple[bytes, str]]:
    """(secret bytes, label) from --secret values and --secrets-file lines (blank and # lines skipped)."""
    out: List[Tuple[bytes, str]] = []
    for i, v in enumerate(values, 1):
        if not v:
            raise UsageError("--secret is empty", "give the secret's text")
        out.append((v.encode("utf-8", "surrogateescape"), f"secret #{i} (--secret)"))
    for path in files:
        from hadoctor.inputs import read_bytes

        for n, line in enumerate(read_bytes(path).splitlines(), 1):
            line = line.rstrip(b"\r")
            if line.strip() and not line.lstrip().startswith(b"#"):
                out.append((line, f"secret on line {n} of {path}"))
    return out


def load_map(path: Optional[str]) -> Tuple[set, List[str]]:
    if not path:
        return set(), []
    from hadoctor.inputs import read_bytes

    try:
        doc = json.loads(read_bytes(path))
        addresses = {ipaddress.ip_address(a) for a in (doc.get("addresses") or {})}
        names = list((doc.get("names") or {}).keys())
    except (ValueError, AttributeError, TypeError) as exc:
        raise InputError(path, f"not a hadoctor bundle map ({exc})", "give the --map-file written by "
                         "bundle create --obfuscate") from None
    return addresses, names


def scan(path: str, secrets: List[Tuple[bytes, str]], addresses: set, names: List[str]) -> VerifyReport:
    report = VerifyReport(path)
    name_rx = None
    if names:
        alts = b"|".join(re.escape(n.encode()) for n in sorted(names, key=len, reverse=True))
        name_rx = re.compile(rb"(?<![A-Za-z0-9_-])(" + alts + rb")(?![A-Za-z0-9_-])", re.IGNORECASE)
    for name, info, reader, budget in iter_members(path):
        if reader is None:
            continue
        report.members += 1
        data = b"".join(read_chunks(reader, name, budget))
        if len(data) > MAX_SCAN_MEMBER:
            raise InputError(path, f"member {name!r} is over {MAX_SCAN_MEMBER // 1024 ** 2} MiB; too big to scan",
                             HINT_UNSAFE)
        layers = [(name, data)]
        if name.endswith((".gz", ".bz2")):
            layers.append((name + " (decompressed)", _decompress(path, name, data, budget)))
        for label, blob in layers:
            report.bytes_scanned += len(blob)
            _scan(report, label, blob, secrets, addresses, name_rx)
        if len(report.leaks) > 1000:
            break
    return report


def _decompress(path: str, name: str, data: bytes, budget) -> bytes:
    opener = gzip.GzipFile if name.endswith(".gz") else bz2.BZ2File
    import io

    out = io.BytesIO()
    try:
        with opener(fileobj=io.BytesIO(data)) as stream:
            while True:
                block = stream.read(1 << 20)
                if not block:
                    break
                out.write(block)
                size = out.tell()
                if size > RATIO_FLOOR and size > MAX_RATIO * max(len(data), 1):
                    raise InputError(path, f"member {name!r} unpacks to over {MAX_RATIO} times its size: refused "
                                     "as a decompression bomb", HINT_UNSAFE)
                if size > MAX_SCAN_MEMBER:
                    raise InputError(path, f"member {name!r} unpacks to over {MAX_SCAN_MEMBER // 1024 ** 2} MiB; "
                                     "too big to scan", HINT_UNSAFE)
                budget.add(len(block), name)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise InputError(path, f"member {name!r} is a damaged compressed file ({exc})", "copy the bundle again") \
            from None
    return out.getvalue()


def _line(blob: bytes, offset: int) -> int:
    return blob.count(b"\n", 0, offset) + 1


def _scan(report: VerifyReport, label: str, blob: bytes, secrets, addresses, name_rx) -> None:
    for secret, what in secrets:
        at = blob.find(secret)
        if at >= 0:
            report.leaks.append(Leak(label, _line(blob, at), what))
    if addresses:
        for rx in (_V4, _V6):
            for m in rx.finditer(blob):
                try:
                    ip = ipaddress.ip_address(m.group(0).decode())
                except ValueError:
                    continue
                if ip in addresses:
                    report.leaks.append(Leak(label, _line(blob, m.start()), f"original address {ip}"))
    if name_rx is not None:
        for m in name_rx.finditer(blob):
            report.leaks.append(Leak(label, _line(blob, m.start()), f"original name {m.group(1).decode()}"))
