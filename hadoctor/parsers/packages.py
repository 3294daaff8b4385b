"""Installed packages (``rpm -qa`` or ``dpkg-query -W`` output) and each packager's version ordering.

A CentOS 6 node:

>>> pkgs = parse_packages(b'''heartbeat-3.0.4-2.el6.x86_64
... resource-agents-3.9.2-21.el6_4.8.x86_64
... ''', "packages.txt")
>>> pkgs.fmt, pkgs.get("resource-agents").arch, str(pkgs.version_of("resource-agents"))
('rpm', 'x86_64', '3.9.2-21.el6_4.8')
>>> pkgs.version_of("resource-agents") < "3.9.5"
True

A Debian node (``dpkg-query -W`` separates name and version with a tab):

>>> deb = parse_packages(b"heartbeat\\t1:3.0.6-13+b2\\nresource-agents\\t1:4.12.0-2\\n", "packages.txt")
>>> v = deb.version_of("heartbeat"); (deb.fmt, v.epoch, v.upstream, v.release)
('deb', 1, '3.0.6', '13+b2')
>>> v > "3.0.6-13"
True

Versions compare by the packager's own rules: rpm's ``rpmvercmp`` (rpm >= 4.15,
with ``~`` and ``^``) and dpkg's ``verrevcmp``. Both are written out here rather
than taken from a library, and the tests check them against ``rpm`` and
``dpkg --compare-versions``.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

from hadoctor.parsers.base import MAX_CONFIG_LINE, Problem, numbered_lines, shorten, to_int

SCHEMES = ("rpm", "deb")

# --------------------------------------------------------------------------- rpm ordering

# rpmvercmp sees a version as a run of segments (digits, letters, '~', '^') with every other
# character only a separator. Compared left to right, a missing segment sorts as _END, and
# the kinds order as: '~' < end of string < '^' < letters < digits.
_RPM_TILDE, _RPM_END, _RPM_CARET, _RPM_ALPHA, _RPM_DIGIT = range(5)
_RPM_SEGMENT = re.compile(r"[0-9]+|[A-Za-z]+|~|\^")


@functools.lru_cache(maxsize=4096)
def _rpm_key(text: str) -> Tuple[Tuple[int, Union[int, str]], ...]:
    out: List[Tuple[int, Union[int, str]]] = []
    for segment in _RPM_SEGMENT.findall(text):
        if segment == "~":
            out.append((_RPM_TILDE, 0))
        elif segment == "^":
            out.append((_RPM_CARET, 0))
        elif segment[0].isdigit():
            out.append((_RPM_DIGIT, to_int(segment, clamp=True)))
        else:
            out.append((_RPM_ALPHA, segment))
    return tuple(out)


def rpmvercmp(a: str, b: str) -> int:
    """rpm's comparison of one version or release string: -1, 0 or 1.

    >>> rpmvercmp("1.0~rc1", "1.0"), rpmvercmp("1.0^git1", "1.0"), rpmvercmp("el6_4.8", "el6_4.10")
    (-1, 1, -1)
    """
    return _cmp_padded(_rpm_key(a), _rpm_key(b), (_RPM_END, 0))


# --------------------------------------------------------------------------- dpkg ordering

def _deb_order(char: str) -> int:
    """dpkg's order(): '~' before the end of a string, letters before every other character."""
    if char == "~":
        return -1
    if char.isascii() and char.isalpha():
        return ord(char)
    return ord(char) + 256


@functools.lru_cache(maxsize=4096)
def _deb_key(text: str) -> Tuple[int, ...]:
    # verrevcmp alternates a non-digit run (compared char by char, 0 past its end) and a
    # number. Flattening each pair to (orders..., 0, number) makes it a plain element-wise
    # comparison where a missing element counts as 0; trailing zeros then carry no meaning.
    out: List[int] = []
    for nondigits, digits in re.findall(r"([^0-9]*)([0-9]*)", text):
        if not nondigits and not digits:
            continue
        out.extend(_deb_order(c) for c in nondigits)
        out.append(0)
        out.append(to_int(digits, clamp=True) if digits else 0)
    while out and out[-1] == 0:
        out.pop()
    return tuple(out)


def dpkg_verrevcmp(a: str, b: str) -> int:
    """dpkg's comparison of one upstream version or revision string: -1, 0 or 1.

    >>> dpkg_verrevcmp("1.0~rc1", "1.0"), dpkg_verrevcmp("1.0a", "1.0+"), dpkg_verrevcmp("", "0")
    (-1, -1, 0)
    """
    return _cmp_padded(_deb_key(a), _deb_key(b), 0)


def _cmp_padded(a: Sequence, b: Sequence, fill: object) -> int:
    for x, y in itertools.zip_longest(a, b, fillvalue=fill):
        if x != y:
            return -1 if x < y else 1
    return 0


# --------------------------------------------------------------------------- Version

@functools.total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    """A package version: ``[epoch:]upstream[-release]``, ordered by its packager's rules.

    ``release`` is rpm's Release or Debian's revision (None when absent). Comparing
    with a string parses it in the same scheme. A missing epoch counts as 0. A missing
    release sorts before every release in rpm (as ``rpm.vercmp`` does, so a bare
    ``"3.9.5"`` is below every 3.9.5 build and a bound such as ``< "3.9.6"`` reads
    naturally), and compares as empty in Debian (where ``""`` equals ``"0"``).

    >>> Version.parse("1:3.0.6-13+b2", "deb") > Version.parse("3.0.6-99", "deb")
    True
    >>> v = Version.parse("3.9.5-21.el6", "rpm"); "3.9.5" < v < "3.9.6"
    True
    """

    epoch: Optional[int]
    upstream: str
    release: Optional[str]
    scheme: str  # 'rpm' or 'deb'

    @classmethod
    def parse(cls, text: str, scheme: str) -> "Version":
        """Parse leniently (never raises); :func:`version_problems` says what is wrong with a string."""
        return _split_version(text.strip(), scheme)[0]

    def compare(self, other: Union["Version", str]) -> int:
        """-1, 0 or 1 as this version sorts before, with or after ``other``."""
        coerced = self._coerce(other)
        if coerced is None:
            raise TypeError(f"cannot compare a {self.scheme} version with {other!r}")
        other = coerced
        cmp = rpmvercmp if self.scheme == "rpm" else dpkg_verrevcmp
        if (self.epoch or 0) != (other.epoch or 0):
            return -1 if (self.epoch or 0) < (other.epoch or 0) else 1
        result = cmp(self.upstream, other.upstream)
        if result:
            return result
        if self.scheme == "rpm" and (self.release is None or other.release is None):
            return (self.release is not None) - (other.release is not None)
        return cmp(self.release or "", other.release or "")

    def _coerce(self, other: object) -> Optional["Version"]:
        if isinstance(other, str):
            return Version.parse(other, self.scheme)
        if isinstance(other, Version) and other.scheme == self.scheme:
            return other
        return None

    def __eq__(self, other: object) -> bool:
        coerced = self._coerce(other)
        return NotImplemented if coerced is None else self.compare(coerced) == 0

    def __lt__(self, other: object) -> bool:
        coerced = self._coerce(other)
        return NotImplemented if coerced is None else self.compare(coerced) < 0

    def __hash__(self) -> int:
        if self.scheme == "rpm":
            release = None if self.release is None else _rpm_key(self.release)
            return hash(("rpm", self.epoch or 0, _rpm_key(self.upstream), release))
        return hash(("deb", self.epoch or 0, _deb_key(self.upstream), _deb_key(self.release or "")))

    def __str__(self) -> str:
        text = f"{self.epoch}:{self.upstream}" if self.epoch is not None else self.upstream
        return f"{text}-{self.release}" if self.release is not None else text

    def to_dict(self) -> dict:
        return {"epoch": self.epoch, "upstream": self.upstream, "release": self.release, "scheme": self.scheme,
                "text": str(self)}


def compare_versions(a: str, b: str, scheme: str) -> int:
    """Compare two whole version strings the way ``rpm`` or ``dpkg --compare-versions`` would: -1, 0 or 1."""
    return Version.parse(a, scheme).compare(Version.parse(b, scheme))


_ASCII_DIGITS = re.compile(r"^[0-9]*$")
_RPM_CHARS = re.compile(r"^[A-Za-z0-9._+~^]*$")
_DEB_UPSTREAM_CHARS = re.compile(r"^[A-Za-z0-9.+~:-]*$")
_DEB_REVISION_CHARS = re.compile(r"^[A-Za-z0-9.+~]*$")


def _split_version(text: str, scheme: str) -> Tuple[Version, List[str]]:
    """The version and what its packager would say is wrong with it (errors and warnings alike)."""
    issues: List[str] = []
    if not text:
        return Version(None, "", None, scheme), ["version is empty"]
    if any(c.isspace() for c in text):
        issues.append("version contains whitespace")
    epoch: Optional[int] = None
    rest = text
    head, colon, tail = text.partition(":")
    if colon and scheme == "deb":
        if head and _ASCII_DIGITS.match(head):
            epoch = to_int(head, clamp=True)
        else:
            issues.append(f"epoch {head!r} is not a number")
        rest = tail
    elif colon and _ASCII_DIGITS.match(head):  # rpm: digits (maybe none) before the first ':'
        epoch, rest = to_int(head or "0", clamp=True), tail
    elif colon and head == "(none)":  # rpm --qf '%{EPOCH}' of a package without one
        rest = tail
    upstream, hyphen, release_text = rest.rpartition("-")
    release_opt = release_text if hyphen else None
    if not hyphen:
        upstream = rest
    if scheme == "rpm":
        if "-" in upstream:
            issues.append("rpm versions cannot contain '-'")
        for part, what in ((upstream, "version"), (release_opt or "", "release")):
            if not _RPM_CHARS.match(part):
                issues.append(f"invalid character in {what} {part!r}")
    else:
        if not upstream:
            issues.append("version number is empty")
        elif upstream[0] not in "0123456789":
            issues.append("version number does not start with a digit")
        if not _DEB_UPSTREAM_CHARS.match(upstream):
            issues.append("invalid character in version number")
        if release_opt == "":
            issues.append("revision number is empty")
        elif release_opt and not _DEB_REVISION_CHARS.match(release_opt):
            issues.append("invalid character in revision number")
    if not upstream and scheme == "rpm":
        issues.append("version is empty")
    return Version(epoch, upstream, release_opt, scheme), issues


# --------------------------------------------------------------------------- package lists

#: rpm architectures that may end an ``rpm -qa`` line (``name-version-release.arch``).
RPM_ARCHES = frozenset({
    "noarch", "x86_64", "i386", "i486", "i586", "i686", "athlon", "geode", "pentium3", "pentium4", "ia32e",
    "amd64", "ia64", "ppc", "ppc64", "ppc64le", "ppc64p7", "ppc64iseries", "ppc64pseries", "s390", "s390x",
    "aarch64", "armv5tel", "armv6l", "armv6hl", "armv7l", "armv7hl", "armv7hnl", "armhfp", "alpha", "sparc",
    "sparc64", "sparcv9", "mips", "mipsel", "mips64", "mips64el", "riscv64", "loongarch64", "src", "nosrc",
})
#: Debian architectures (the column after the version in ``dpkg -l``).
DEB_ARCHES = frozenset({
    "all", "amd64", "i386", "arm64", "armhf", "armel", "mips64el", "mipsel", "mips", "ppc64el", "powerpc",
    "ppc64", "s390x", "riscv64", "loong64", "alpha", "hppa", "ia64", "m68k", "sh4", "sparc", "sparc64", "x32",
    "hurd-i386", "kfreebsd-amd64", "kfreebsd-i386",
})
#: Packages rpm installs side by side by design (several kernels, several keys).
_RPM_INSTALLONLY = re.compile(r"^(kernel|gpg-pubkey)(-|$)")

_RPM_NVRA = re.compile(r"^(?P<name>\S+)-(?P<version>[^-\s]+)-(?P<release>[^-\s]+)$")
_DPKG_L = re.compile(r"^(?P<status>[uihrp][ncHUFWti]R?)\s+(?P<name>\S+)\s+(?P<version>\S+)(?:\s+(?P<rest>.*))?$")
_DPKG_L_HEADER = re.compile(r"^(Desired=|\| Status=|\|/ Err\?=|\|\|/ |\+\+\+-)")


@dataclass
class Package:
    """One installed package, e.g. ``resource-agents-3.9.2-21.el6_4.8.x86_64``."""

    name: str
    version: Version
    arch: Optional[str] = None
    line: int = 0

    def to_dict(self) -> dict:
        return {"name": self.name, "version": self.version.to_dict(), "arch": self.arch, "line": self.line}


@dataclass
class PackageList:
    """The packages of one node. ``packages`` maps a name to its newest installed version;
    ``entries`` keeps every line (a name may appear more than once: kernels, multilib)."""

    path: str
    fmt: Optional[str]  # 'rpm', 'deb', or None for an empty or unreadable file
    packages: Dict[str, Package] = field(default_factory=dict)
    problems: List[Problem] = field(default_factory=list)
    entries: List[Package] = field(default_factory=list)

    def get(self, name: str) -> Optional[Package]:
        return self.packages.get(name)

    def version_of(self, name: str) -> Optional[Version]:
        pkg = self.packages.get(name)
        return pkg.version if pkg else None

    def __contains__(self, name: object) -> bool:
        return name in self.packages

    def to_dict(self) -> dict:
        return {
            "path": self.path, "fmt": self.fmt,
            "packages": {name: pkg.to_dict() for name, pkg in sorted(self.packages.items())},
            "problems": [{"line": p.line, "message": p.message, "text": p.text, "severity": p.severity}
                         for p in self.problems],
        }


def detect_packages_format(data: bytes) -> Optional[str]:
    """'rpm' or 'deb' from the shape of the lines; None when nothing looks like a package line."""
    votes = {"rpm": 0, "deb": 0}
    for _, text in itertools.islice(numbered_lines(data[:1 << 20]), 2000):
        if "\t" in text or _DPKG_L_HEADER.match(text) or _DPKG_L.match(text):
            votes["deb"] += 1
            continue
        scheme = _line_scheme(text.split())
        if scheme:
            votes[scheme] += 1
    if not any(votes.values()):
        return None
    return "rpm" if votes["rpm"] > votes["deb"] else "deb"


def _line_scheme(words: List[str]) -> Optional[str]:
    """Which packager a whitespace-separated line most likely comes from; None when it does not tell."""
    if len(words) >= 2 and (":" in words[1] or words[1][:1].isdigit()):  # name version [arch]
        if words[1].startswith("(none):") or (len(words) > 2 and words[2] in RPM_ARCHES - DEB_ARCHES):
            return "rpm"  # rpm --qf '%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE} %{ARCH}'
        return "deb"
    if words and _RPM_NVRA.match(words[0]):  # rpm -qa, or rpm -qa --last (a date follows)
        return "rpm"
    return None


def parse_packages(data: bytes, path: str, fmt: Optional[str] = None) -> PackageList:
    """Parse ``rpm -qa`` (or ``rpm -qa --qf '%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE} %{ARCH}\\n'``),
    ``dpkg-query -W`` (or with ``-f '${Package} ${Version} ${Architecture}\\n'``) or ``dpkg -l`` output.

    ``fmt`` ('rpm' or 'deb') skips the detection.

    >>> p = parse_packages(b"ii  heartbeat  1:3.0.6-13+b2  amd64  Subsystem for High-Availability Linux\\n"
    ...                    b"rc  heartbeat-2  2.1.4-1  amd64  removed, configuration kept\\n", "dpkg-l.txt")
    >>> sorted(p.packages), p.get("heartbeat").arch
    (['heartbeat'], 'amd64')
    """
    result = PackageList(path, fmt if fmt in SCHEMES else detect_packages_format(data))
    problems = result.problems
    if fmt is not None and fmt not in SCHEMES:
        problems.append(Problem(path, 0, f"unknown package format {fmt!r}; detected from the content", code="packages-unknown-format"))
    if result.fmt is None:
        problems.append(Problem(path, 0, "no package lines found (expected rpm -qa or dpkg-query -W output)", code="packages-none"))
        return result
    for number, text in numbered_lines(data):
        if len(text) > MAX_CONFIG_LINE:
            problems.append(Problem(path, number, f"line longer than {MAX_CONFIG_LINE} characters; skipped",
                                    shorten(text[:80]), code="line-too-long"))
            continue
        if not text.strip():
            continue
        parsed = _parse_rpm_line(text) if result.fmt == "rpm" else _parse_deb_line(text)
        if parsed is None:
            continue
        if isinstance(parsed, str):
            problems.append(Problem(path, number, parsed, shorten(text), code="packages-bad-line"))
            continue
        name, version_text, arch, note = parsed
        version, issues = _split_version(version_text, result.fmt)
        for issue in issues:
            problems.append(Problem(path, number, f"{name}: {issue}", shorten(text), "warning", code="packages-bad-version"))
        if note:
            problems.append(Problem(path, number, f"{name}: {note}", shorten(text), "warning", code="packages-not-installed"))
        _add(result, Package(name, version, arch, number))
    return result


def _add(result: PackageList, pkg: Package) -> None:
    for earlier in result.entries:
        if earlier.name == pkg.name and earlier.arch == pkg.arch and not _RPM_INSTALLONLY.match(pkg.name):
            result.problems.append(Problem(
                result.path, pkg.line,
                f"{pkg.name} is installed twice ({earlier.version} at line {earlier.line}, {pkg.version}); "
                "an interrupted upgrade?", severity="warning", code="packages-duplicate"))
            break
    result.entries.append(pkg)
    current = result.packages.get(pkg.name)
    if current is None or pkg.version > current.version:
        result.packages[pkg.name] = pkg


_Parsed = Union[None, str, Tuple[str, str, Optional[str], str]]


def _parse_rpm_line(text: str) -> _Parsed:
    words = text.split()
    if len(words) in (2, 3) and ":" in words[1]:  # --qf '%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE} %{ARCH}'
        arch = words[2] if len(words) == 3 and words[2] != "(none)" else None
        return words[0], words[1], arch, ""
    m = _RPM_NVRA.match(words[0])
    if not m:  # also what ``error: rpmdb: ...`` lines land on
        return "not an rpm package line (expected name-version-release.arch)"
    release, arch = m.group("release"), None
    head, dot, tail = release.rpartition(".")
    if dot and tail in RPM_ARCHES:
        release, arch = head, tail
    # any further words are rpm -qa --last's install date
    return m.group("name"), f"{m.group('version')}-{release}", arch, ""


def _parse_deb_line(text: str) -> _Parsed:
    if _DPKG_L_HEADER.match(text):
        return None
    if "\t" in text:  # dpkg-query -W: ``name[:arch]<TAB>version``, version empty when not installed
        name, _, version = text.partition("\t")
        name, version = name.strip(), version.strip()
        if not version:
            return None
        words = version.split()
        return _deb_entry(name, words[0], words[1] if len(words) > 1 else None, "")
    m = _DPKG_L.match(text)
    if m:
        status = m.group("status")
        if status[1] in "nc":  # not installed, or only its configuration files remain
            return None
        rest = (m.group("rest") or "").split()
        arch = rest[0] if rest and rest[0] in DEB_ARCHES else None
        note = "" if status in ("ii", "hi") else f"package state {status!r} is not cleanly installed"
        return _deb_entry(m.group("name"), m.group("version"), arch, note)
    words = text.split()
    if len(words) in (2, 3):
        return _deb_entry(words[0], words[1], words[2] if len(words) == 3 else None, "")
    return "not a dpkg-query -W line (expected name<TAB>version)"


def _deb_entry(name: str, version: str, arch: Optional[str], note: str) -> _Parsed:
    base, colon, qualifier = name.partition(":")
    if colon and qualifier:  # multiarch: libc6:amd64
        return base, version, arch or qualifier, note
    return name, version, arch, note
