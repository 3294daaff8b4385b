"""``hadoctor bundle verify``: scan every byte of every member for secrets and original addresses/names.

Every member is streamed (memory stays a few MiB whatever the bundle holds), nested ``.gz``/``.bz2``
files decompressed too, as they stream, with the same bomb limits as ``check``. Credentials in the
forms :mod:`hadoctor.bundle.redact` masks (a bundle made by an older version may hold them) count too. A secret counts anywhere (plain bytes, case-sensitive); a mapped original address
counts as an address token (``10.0.0.1`` does not match inside ``10.0.0.12``; IPv6 in any spelling);
a mapped original name counts as a word, case-insensitively.

Exit codes: 0 nothing found; 4 a leak was found (each named: member, line, which secret by its
number, never its value); 2 the archive is unsafe, corrupt or not a bundle, or bad usage.
"""

from __future__ import annotations

import bz2
import ipaddress
import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Sequence, Tuple

from hadoctor.bundle import MANIFEST
from hadoctor.bundle.archive import (
    CHUNK,
    HINT_FOREIGN,
    HINT_UNSAFE,
    MAX_RATIO,
    RATIO_FLOOR,
    iter_members,
    read_chunks,
)
from hadoctor.bundle.obfuscate import IPV4_PATTERN, IPV6_PATTERN
from hadoctor.bundle.redact import credential_forms
from hadoctor.errors import InputError, UsageError

EXIT_CLEAN = 0
EXIT_LEAK = 4
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
    overlap = max([OVERLAP] + [len(s) + 1 for s, _ in secrets] + [len(n) + 2 for n in names])
    manifest = False
    for name, info, reader, budget in iter_members(path):
        if reader is None:
            continue
        report.members += 1
        manifest = manifest or name == MANIFEST or (name.count("/") == 1 and name.endswith("/" + MANIFEST))
        outer = _Stream(report, name, secrets, addresses, name_rx, overlap)
        inner = _Stream(report, name + " (decompressed)", secrets, addresses, name_rx, overlap) \
            if name.endswith((".gz", ".bz2")) else None
        inflate = _Inflater(path, name, budget) if inner is not None else None
        for block in read_chunks(reader, name, budget):
            outer.feed(block)
            if inflate is not None:
                for plain in inflate.feed(block):
                    inner.feed(plain)  # type: ignore[union-attr]
        outer.close()
        if inflate is not None:
            inflate.close()
            inner.close()  # type: ignore[union-attr]
        if len(report.leaks) > 1000:
            return report
    if not manifest:
        raise InputError(path, "not a hadoctor bundle: no manifest.json at its top", HINT_FOREIGN)
    return report


#: bytes of a member scanned at once; with the overlap kept for matches across the cut, memory stays a few MiB
WINDOW = 1 << 20
#: the longest match of an address, a name or a credential form (bounded patterns), unless a secret is longer
OVERLAP = 4096


class _Stream:
    """Scans one member (or its decompressed content) block by block: memory is bounded by WINDOW + overlap.

    Each pass searches the buffer from the end of what was already scanned and reports matches that
    start before ``len - overlap`` (a match is at most ``overlap`` long, so it lies whole in the buffer);
    the rest is kept with ``overlap`` bytes of context before it (``^`` and look-behinds see the true
    preceding bytes). Each secret is reported at its first place in the member.
    """

    def __init__(self, report: VerifyReport, label: str, secrets, addresses, name_rx, overlap: int) -> None:
        self.report, self.label, self.secrets, self.addresses, self.name_rx = report, label, secrets, addresses, name_rx
        self.overlap = overlap
        self.buf = b""
        self.start = 0  # where unscanned bytes begin in buf
        self.line = 1  # the line number of buf[0]
        self.found: set = set()

    def feed(self, block: bytes) -> None:
        self.report.bytes_scanned += len(block)
        self.buf += block
        if len(self.buf) - self.start >= WINDOW + self.overlap:
            self._scan(len(self.buf) - self.overlap)

    def close(self) -> None:
        self._scan(len(self.buf))
        self.buf = b""

    def _at(self, offset: int) -> int:
        return self.line + self.buf.count(b"\n", 0, offset)

    def _leak(self, offset: int, what: str) -> None:
        self.report.leaks.append(Leak(self.label, self._at(offset), what))

    def _scan(self, limit: int) -> None:
        buf, start = self.buf, self.start
        for secret, what in self.secrets:
            if what in self.found:
                continue
            at = buf.find(secret, start)
            if 0 <= at < limit:
                self.found.add(what)
                self._leak(at, what)
        if self.addresses:
            for rx in (_V4, _V6):
                for m in rx.finditer(buf, start):
                    if m.start() >= limit:
                        break
                    try:
                        ip = ipaddress.ip_address(m.group(0).decode())
                    except ValueError:
                        continue
                    if ip in self.addresses:
                        self._leak(m.start(), f"original address {ip}")
        if self.name_rx is not None:
            for m in self.name_rx.finditer(buf, start):
                if m.start() >= limit:
                    break
                self._leak(m.start(), f"original name {m.group(1).decode()}")
        for offset, what in credential_forms(buf, start, limit):
            self._leak(offset, "credential in clear: " + what)
        keep = max(0, limit - self.overlap)
        self.line += buf.count(b"\n", 0, keep)
        self.buf, self.start = buf[keep:], limit - keep


class _Inflater:
    """Streaming gunzip/bunzip2 of a nested member with the bomb limits of ``check``; output in CHUNK pieces."""

    def __init__(self, path: str, name: str, budget) -> None:
        self.path, self.name, self.budget = path, name, budget
        self.gzip = name.endswith(".gz")
        self.obj = self._new()
        self.eof = False
        self.consumed = 0
        self.produced = 0

    def _new(self):
        return zlib.decompressobj(16 + zlib.MAX_WBITS) if self.gzip else bz2.BZ2Decompressor()

    def _damaged(self, why: str) -> InputError:
        return InputError(self.path, f"member {self.name!r} is a damaged compressed file ({why})",
                          "copy the bundle again")

    def _count(self, out: bytes) -> bytes:
        self.produced += len(out)
        if self.produced > RATIO_FLOOR and self.produced > MAX_RATIO * max(self.consumed, 1):
            raise InputError(self.path, f"member {self.name!r} unpacks to over {MAX_RATIO} times its size: refused "
                             "as a decompression bomb", HINT_UNSAFE)
        self.budget.add(len(out), self.name)
        return out

    def feed(self, data: bytes) -> Iterator[bytes]:
        self.consumed += len(data)
        try:
            while data:
                if self.eof:  # a further gzip/bzip2 stream follows (concatenated files)
                    self.obj, self.eof = self._new(), False
                if self.gzip:
                    out = self.obj.decompress(data, CHUNK)
                    data = self.obj.unconsumed_tail
                else:
                    out = self.obj.decompress(data, CHUNK)
                    data = b""
                    while not self.obj.eof and not self.obj.needs_input:
                        if out:
                            yield self._count(out)
                        out = self.obj.decompress(b"", CHUNK)
                if out:
                    yield self._count(out)
                if self.obj.eof:
                    self.eof = True
                    data = self.obj.unused_data + data
        except (OSError, EOFError, zlib.error, ValueError) as exc:
            raise self._damaged(str(exc) or type(exc).__name__) from None

    def close(self) -> None:
        if not self.eof and (self.consumed or not self.gzip):
            raise self._damaged("it ends before its compressed data does")
