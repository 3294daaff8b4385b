"""Parser for the Asterisk/MOR configuration files of services behind the VIP.

Asterisk files are INI-like: ``[section]``, ``key = value`` or ``key => value``, ``;`` comments.
Secrets (``secret``, ``password``, ``md5secret``, ...) are kept only as :class:`Secret`.

>>> conf = parse_asterisk_conf(b"[general]\\nbindaddr = 10.0.0.5 ; node address\\n[100]\\nsecret=hunter2\\n", "sip.conf")
>>> [(e.section, e.key, e.value) for e in conf.find("bindaddr")]
[('general', 'bindaddr', '10.0.0.5')]
>>> conf.find("secret")[0].value
Secret(****)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Union

from hadoctor.parsers.base import Problem, numbered_lines, shorten
from hadoctor.secrets import Secret

SECRET_KEYS = re.compile(r"(secret|passw|password|pass|md5secret|pwd|token|key)$", re.IGNORECASE)
SERVICE_FILES = ("sip.conf", "iax.conf", "h323.conf", "manager.conf", "mor.conf")


@dataclass
class ConfEntry:
    section: str
    key: str
    value: Union[str, Secret]
    line: int


@dataclass
class AsteriskConf:
    path: str
    entries: List[ConfEntry] = field(default_factory=list)
    problems: List[Problem] = field(default_factory=list)

    def find(self, key: str) -> List[ConfEntry]:
        return [e for e in self.entries if e.key == key.lower()]

    def to_dict(self) -> dict:
        return {"path": self.path,
                "entries": [{"section": e.section, "key": e.key, "line": e.line,
                             "value": "****" if isinstance(e.value, Secret) else e.value} for e in self.entries],
                "problems": [p.__dict__ for p in self.problems]}


def parse_asterisk_conf(data: bytes, path: str) -> AsteriskConf:
    result = AsteriskConf(path)
    section = ""
    for number, text in numbered_lines(data):
        body = text.split(";", 1)[0].strip()
        if not body:
            continue
        if body.startswith("["):
            section = body[1:body.find("]")] if "]" in body else body[1:]
            continue
        if body.startswith(("#include", "#exec")):
            continue
        key, equals, value = body.partition("=")  # str methods, not a regex: linear on any line
        if not equals or not key.strip():
            result.problems.append(Problem(path, number, "not a key = value line", shorten(text), "warning", code="asterisk-bad-line"))
            continue
        key, value = key.strip().lower(), value[1:].strip() if value.startswith(">") else value.strip()
        result.entries.append(ConfEntry(section, key, Secret(value) if SECRET_KEYS.search(key) else value, number))
    return result


@dataclass
class ServiceConfigs:
    """The service files found on a node, by file name."""

    files: Dict[str, AsteriskConf] = field(default_factory=dict)

    @property
    def problems(self) -> List[Problem]:
        return [p for conf in self.files.values() for p in conf.problems]

    def to_dict(self) -> dict:
        return {name: conf.to_dict() for name, conf in self.files.items()}
