"""Parser for the node's distribution: ``/etc/os-release``, else ``/etc/redhat-release`` or
``/etc/debian_version`` (CentOS 5 and Debian 6, common under heartbeat, have no os-release).

The input is one of those files, or the bundle's ``os-release.txt``: each file present after a
``### PATH`` line. os-release wins over the older files.

>>> r = parse_os_release(b'### /etc/os-release\\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\\nID=debian\\n'
...                      b'VERSION_ID="12"\\n### /etc/debian_version\\n12.5\\n', "os-release.txt")
>>> r.id, r.version_id, r.pretty_name, r.source
('debian', '12', 'Debian GNU/Linux 12 (bookworm)', '/etc/os-release')
>>> old = parse_os_release(b"### /etc/redhat-release\\nCentOS release 5.11 (Final)\\n")
>>> old.id, old.version_id, old.summary()
('centos', '5.11', 'CentOS release 5.11 (Final)')
>>> parse_os_release(b"", "os-release.txt").problems[0].message
'no os-release, redhat-release or debian_version content'
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Tuple

from hadoctor.parsers.base import MAX_CONFIG_LINE, Problem, decode, shorten

_VERSION = re.compile(r"\d+(?:\.\d+)*")
_KEY = re.compile(r"[A-Z][A-Z0-9_]*")


@dataclass
class OsRelease:
    path: str
    id: str = ""  # os-release ID (debian, centos, rhel, ...), or the first word of redhat-release, lower case
    version_id: str = ""
    pretty_name: str = ""
    source: str = ""  # which file said it: /etc/os-release, /etc/redhat-release, /etc/debian_version
    problems: List[Problem] = field(default_factory=list)

    def summary(self) -> str:
        return self.pretty_name or f"{self.id} {self.version_id}".strip() or "unknown"

    def to_dict(self) -> dict:
        return {"path": self.path, "id": self.id, "version_id": self.version_id, "pretty_name": self.pretty_name,
                "source": self.source, "problems": [asdict(p) for p in self.problems]}


def _sections(text: str, path: str) -> List[Tuple[str, List[Tuple[int, str]]]]:
    """(file name, numbered lines) per ``### PATH`` section; a plain file is one section named ``path``."""
    sections: List[Tuple[str, List[Tuple[int, str]]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("### "):
            sections.append((line[4:].strip(), []))
        elif len(line) <= MAX_CONFIG_LINE:
            if not sections:
                sections.append((path, []))
            sections[-1][1].append((number, line))
    return sections


def _key_values(lines: List[Tuple[int, str]]) -> Dict[str, str]:
    values: Dict[str, str] = {}
    for _number, line in lines:
        key, sep, value = line.strip().partition("=")
        if sep and _KEY.fullmatch(key):
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            values[key] = value
    return values


def parse_os_release(data: bytes, path: str = "os-release") -> OsRelease:
    """Parse os-release / redhat-release / debian_version text; never raises."""
    result = OsRelease(path)
    found: Dict[str, List[Tuple[int, str]]] = {}
    for name, lines in _sections(decode(data), path):
        kind = next((k for k in ("os-release", "redhat-release", "debian_version") if name.endswith(k)), "os-release")
        if any(text.strip() for _n, text in lines):
            found.setdefault(kind, lines)
            found.setdefault(kind + ":name", [(0, name)])
    if "os-release" in found:
        values = _key_values(found["os-release"])
        result.id, result.version_id = values.get("ID", "").lower(), values.get("VERSION_ID", "")
        result.pretty_name = values.get("PRETTY_NAME", "") or values.get("NAME", "")
        result.source = found["os-release:name"][0][1]
        if not result.id:
            result.problems.append(Problem(path, found["os-release"][0][0], "os-release has no ID= line",
                                           shorten(found["os-release"][0][1]), "warning", code="osrelease-no-id"))
    elif "redhat-release" in found:
        number, first = next((n, t.strip()) for n, t in found["redhat-release"] if t.strip())
        version = _VERSION.search(first)
        result.id, result.version_id = first.split()[0].lower(), version.group(0) if version else ""
        result.pretty_name, result.source = first, found["redhat-release:name"][0][1]
    elif "debian_version" in found:
        first = next(t.strip() for _n, t in found["debian_version"] if t.strip())
        result.id, result.version_id, result.source = "debian", first, found["debian_version:name"][0][1]
    else:
        result.problems.append(Problem(path, 0, "no os-release, redhat-release or debian_version content", "",
                                       "warning", code="osrelease-empty"))
    return result
