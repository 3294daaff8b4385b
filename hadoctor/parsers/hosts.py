"""Parser for ``/etc/hosts``.

>>> hosts = parse_hosts(b"127.0.0.1 localhost\\n10.250.0.2 node01.lab node01  # primary\\n", "hosts")
>>> [str(a) for a in hosts.addresses_for("node01")]
['10.250.0.2']
>>> hosts.entries[1].line
2
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import List, Union

from hadoctor.parsers.base import MAX_CONFIG_LINE, Problem, numbered_lines, shorten, strip_comment

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]


@dataclass
class HostEntry:
    address: IPAddress
    names: List[str]
    line: int


@dataclass
class HostsFile:
    path: str
    entries: List[HostEntry] = field(default_factory=list)
    problems: List[Problem] = field(default_factory=list)

    def addresses_for(self, name: str) -> List[IPAddress]:
        wanted = name.lower()
        return [e.address for e in self.entries if wanted in (n.lower() for n in e.names)]

    def to_dict(self) -> dict:
        return {"path": self.path,
                "entries": [{"address": str(e.address), "names": e.names, "line": e.line} for e in self.entries],
                "problems": [p.__dict__ for p in self.problems]}


def parse_hosts(data: bytes, path: str = "hosts") -> HostsFile:
    result = HostsFile(path)
    for number, text in numbered_lines(data):
        if len(text) > MAX_CONFIG_LINE:
            result.problems.append(Problem(path, number, "line too long; ignored", shorten(text), code="line-too-long"))
            continue
        fields = strip_comment(text).split()
        if not fields:
            continue
        try:
            address = ipaddress.ip_address(fields[0].split("%")[0])
        except ValueError:
            result.problems.append(Problem(path, number, f"not an IP address: {shorten(fields[0], 40)}",
                                           shorten(text), "warning", code="hosts-bad-address"))
            continue
        if len(fields) < 2:
            result.problems.append(Problem(path, number, "address without a host name", shorten(text), "warning", code="hosts-no-name"))
            continue
        result.entries.append(HostEntry(address, fields[1:], number))
    return result
