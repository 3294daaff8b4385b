"""Parser for a listing of resource scripts (``/etc/ha.d/resource.d`` and ``/etc/init.d``).

The listing is what a POSIX shell on any node can produce, one file a line, as either
``x PATH`` / ``- PATH`` (executable or not), an octal mode and the path, or ``ls -l`` lines::

    for f in /etc/ha.d/resource.d/* /etc/init.d/*; do [ -x "$f" ] && echo "x $f" || echo "- $f"; done

>>> s = parse_script_listing(b"x /etc/ha.d/resource.d/IPaddr\\n- /etc/init.d/mysql\\n755 /etc/init.d/apache2\\n")
>>> s.lookup("IPaddr").executable, s.lookup("mysql").executable, s.lookup("apache2").path
(True, False, '/etc/init.d/apache2')
>>> s.lookup("drbddisk") is None
True
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from hadoctor.parsers.base import Problem, numbered_lines, shorten, to_int

#: ResourceManager looks in resource.d first, then init.d
SEARCH_DIRS = ("/etc/ha.d/resource.d", "/etc/init.d")
_LS_MODE = re.compile(r"^[-lbcdps][-rwxsStT]{9}[.+@]?$")


@dataclass
class Script:
    path: str
    executable: bool
    line: int

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


@dataclass
class ScriptListing:
    path: str
    scripts: List[Script] = field(default_factory=list)
    problems: List[Problem] = field(default_factory=list)

    def lookup(self, name: str) -> Optional[Script]:
        """The script ResourceManager would run for ``name``: resource.d first, then init.d."""
        by_dir: Dict[str, Script] = {}
        for script in self.scripts:
            if script.name == name:
                by_dir.setdefault(os.path.dirname(script.path), script)
        for folder in SEARCH_DIRS:
            if folder in by_dir:
                return by_dir[folder]
        return next(iter(by_dir.values()), None)

    def to_dict(self) -> dict:
        return {"path": self.path, "scripts": [s.__dict__ for s in self.scripts],
                "problems": [p.__dict__ for p in self.problems]}


def parse_script_listing(data: bytes, path: str = "resource-scripts.txt") -> ScriptListing:
    result = ScriptListing(path)
    for number, text in numbered_lines(data):
        words = text.split()
        if not words or words[0] == "total":
            continue
        head, target = words[0], words[-1]
        if len(words) < 2 or not target.startswith("/"):
            result.problems.append(Problem(path, number, "not a 'x|- /path' line", shorten(text), "warning", code="scripts-bad-line"))
            continue
        if head in ("x", "-"):
            executable = head == "x"
        elif to_int(head, 8) is not None:  # an octal mode: 755, 0644
            executable = bool(to_int(head, 8) & 0o111)
        elif _LS_MODE.match(head):
            executable = "x" in head[1:10] or "s" in head[1:10]
        else:
            result.problems.append(Problem(path, number, f"unknown mode field {head!r}", shorten(text), "warning", code="scripts-unknown-mode"))
            continue
        result.scripts.append(Script(target, executable, number))
    return result
