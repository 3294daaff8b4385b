"""Parser for what starts at boot: ``systemctl list-unit-files`` or ``chkconfig --list`` output.

>>> b = parse_boot_services(b"apache2.service enabled enabled\\nmysql.service disabled enabled\\n")
>>> b.enabled("apache2"), b.enabled("mysql"), b.enabled("nginx")
(True, False, None)
>>> parse_boot_services(b"httpd  0:off 1:off 2:on 3:on 4:on 5:on 6:off\\n").enabled("httpd")
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from hadoctor.parsers.base import Problem, numbered_lines, shorten

_ENABLED = {"enabled", "enabled-runtime", "static", "alias", "generated"}


@dataclass
class BootServices:
    path: str
    fmt: str
    services: Dict[str, bool] = field(default_factory=dict)  # name (no .service) -> starts at boot
    lines: Dict[str, int] = field(default_factory=dict)
    problems: List[Problem] = field(default_factory=list)

    def enabled(self, name: str) -> Optional[bool]:
        """True/False when the listing knows the service, None when it does not mention it."""
        return self.services.get(name[:-8] if name.endswith(".service") else name)

    def to_dict(self) -> dict:
        return {"path": self.path, "format": self.fmt, "services": self.services,
                "problems": [p.__dict__ for p in self.problems]}


def parse_boot_services(data: bytes, path: str = "boot-services.txt") -> BootServices:
    result = BootServices(path, "empty")
    for number, text in numbered_lines(data):
        words = text.split()
        if not words or words[0] in ("UNIT", "UNIT FILE") or text.strip().endswith("unit files listed."):
            continue
        if len(words) >= 2 and ":" in words[1]:  # chkconfig: name 0:off 1:off 2:on ...
            result.fmt = "chkconfig"
            levels = dict(w.split(":", 1) for w in words[1:] if ":" in w)
            on = any(levels.get(str(r)) == "on" for r in (2, 3, 4, 5))
            result.services[words[0]] = on
            result.lines[words[0]] = number
        elif len(words) >= 2 and "." in words[0]:  # systemctl list-unit-files
            result.fmt = "systemd"
            unit, state = words[0], words[1]
            if unit.endswith(".service"):
                name = unit[:-8]
                result.services[name] = state in _ENABLED
                result.lines[name] = number
        else:
            result.problems.append(Problem(path, number, "not a systemctl or chkconfig line", shorten(text),
                                           "warning", code="bootservices-bad-line"))
    return result
