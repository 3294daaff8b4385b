"""Suppressions: ``# hadoctor: ignore=CODE[,CODE] reason=... [until=YYYY-MM-DD]``.

They may stand in ha.cf or haresources (the loader collects them as the
``suppressions`` datum of the node) or, one per line, in a file given with
``--suppressions`` (where they apply to every node unless ``node=NAME`` is given).

>>> [s.codes for s in scan(b"keepalive 1\\n# hadoctor: ignore=CFG103 reason='lab timings' until=2030-01-01\\n", "ha.cf")]
[('CFG103',)]
>>> scan(b"# hadoctor: ignore=CFG103\\n", "ha.cf")[0].problem
'a suppression needs reason=...'
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import date
from typing import List, Optional, Tuple

_MARK = re.compile(rb"#\s*hadoctor:\s*(.*)$", re.MULTILINE)


@dataclass
class Suppression:
    codes: Tuple[str, ...]
    reason: str
    file: str
    line: int
    until: Optional[date] = None
    node: Optional[str] = None  # None: every node
    problem: str = ""  # why it is not valid; a suppression with a problem is not applied

    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def expired(self, today: date) -> bool:
        return self.until is not None and today > self.until

    def matches(self, code: str, node: Optional[str]) -> bool:
        if self.node is not None and node is not None and self.node != node:
            return False
        return any(code.startswith(c) for c in self.codes)


def scan(data: bytes, path: str, node: Optional[str] = None) -> List[Suppression]:
    found = []
    for m in _MARK.finditer(data):
        line = data.count(b"\n", 0, m.start()) + 1
        found.append(parse_one(m.group(1).decode("utf-8", "replace"), path, line, node))
    return found


def parse_file(data: bytes, path: str) -> List[Suppression]:
    found = []
    for number, raw in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        text = raw.strip()
        if not text or text.startswith("#") and "hadoctor:" not in text:
            continue
        text = re.sub(r"^#\s*hadoctor:\s*", "", text)
        found.append(parse_one(text, path, number, None))
    return found


def parse_one(text: str, path: str, line: int, node: Optional[str]) -> Suppression:
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    fields = {}
    for word in words:
        key, sep, value = word.partition("=")
        if sep:
            fields[key.strip().lower()] = value.strip()
    codes = tuple(c.strip().upper() for c in fields.get("ignore", "").split(",") if c.strip())
    supp = Suppression(codes, fields.get("reason", ""), path, line, node=fields.get("node", node))
    if not codes:
        supp.problem = "a suppression needs ignore=CODE"
    elif not supp.reason:
        supp.problem = "a suppression needs reason=..."
    if "until" in fields:
        try:
            supp.until = date.fromisoformat(fields["until"])
        except ValueError:
            supp.problem = f"until={fields['until']} is not a date (YYYY-MM-DD)"
    return supp
