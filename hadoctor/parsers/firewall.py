"""Parser for firewall state: ``iptables-save`` output and ``nft list ruleset``.

It answers one question rules ask: which rules drop or reject UDP traffic to or
from heartbeat's port. Rules are kept as written, with their line.

>>> fw = parse_firewall(b"*filter\\n:INPUT ACCEPT [0:0]\\n-A INPUT -s 10.250.0.3/32 -p udp -m udp --dport 694 -j DROP\\nCOMMIT\\n")
>>> [(r.chain, r.action, r.line) for r in fw.blocking_udp_port(694)]
[('INPUT', 'drop', 3)]
>>> fw.blocking_udp_port(695)
[]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import List, Optional, Set

from hadoctor.parsers.base import Problem, numbered_lines, shorten, to_int

_BLOCK_ACTIONS = {"drop", "reject"}
_PORT_RANGE = re.compile(r"^(\d+)(?:[:-](\d+))?$")


@dataclass
class FirewallRule:
    family: str  # "iptables" or "nft"
    table: str
    chain: str
    text: str
    line: int
    action: str  # accept/drop/reject/jump/...; lower case
    protocol: str = ""
    dports: str = ""  # as written: "694", "690:700", "{ 694, 695 }"
    sports: str = ""
    source: str = ""
    destination: str = ""
    in_iface: str = ""
    out_iface: str = ""

    def matches_port(self, port: int, which: str = "dport") -> bool:
        spec = self.dports if which == "dport" else self.sports
        if not spec:
            return False
        return port in _ports(spec)


def _ports(spec: str) -> Set[int]:
    found: Set[int] = set()
    for part in re.split(r"[,\s{}]+", spec):
        m = _PORT_RANGE.match(part)
        if m:
            low, high = to_int(m.group(1)), to_int(m.group(2) or m.group(1))
            if low is not None and high is not None and 0 <= high - low <= 65535:
                found.update(range(low, high + 1))
    return found


@dataclass
class FirewallRules:
    path: str
    fmt: str  # "iptables-save", "nft", "empty"
    rules: List[FirewallRule] = field(default_factory=list)
    problems: List[Problem] = field(default_factory=list)

    def blocking_udp_port(self, port: int) -> List[FirewallRule]:
        """Rules that drop/reject UDP to or from ``port`` (either direction counts)."""
        return [r for r in self.rules
                if r.action in _BLOCK_ACTIONS and r.protocol in ("udp", "")
                and (r.matches_port(port, "dport") or r.matches_port(port, "sport"))]

    def to_dict(self) -> dict:
        return {"path": self.path, "format": self.fmt,
                "rules": [r.__dict__ for r in self.rules],
                "problems": [p.__dict__ for p in self.problems]}


def parse_firewall(data: bytes, path: str = "firewall") -> FirewallRules:
    text = data.lstrip()
    if text.startswith(b"table ") or b"\ntable " in data[:4096]:
        return _parse_nft(data, path)
    if not text:
        return FirewallRules(path, "empty")
    return _parse_iptables(data, path)


_IPT_OPTS = {"-p": "protocol", "--protocol": "protocol", "--dport": "dports", "--dports": "dports",
             "--destination-port": "dports", "--sport": "sports", "--sports": "sports", "--source-port": "sports",
             "-s": "source", "--source": "source", "-d": "destination", "--destination": "destination",
             "-i": "in_iface", "--in-interface": "in_iface", "-o": "out_iface", "--out-interface": "out_iface"}


def _parse_iptables(data: bytes, path: str) -> FirewallRules:
    result = FirewallRules(path, "iptables-save")
    table = "filter"
    for number, line in numbered_lines(data):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.startswith(":") or stripped == "COMMIT":
            continue
        if stripped.startswith("*"):
            table = stripped[1:].strip()
            continue
        words = stripped.split()
        if words[0] not in ("-A", "-I", "--append", "--insert") or len(words) < 2:
            result.problems.append(Problem(path, number, "not an iptables-save rule line", shorten(stripped),
                                           "warning", code="firewall-bad-line"))
            continue
        rule = FirewallRule("iptables", table, words[1], stripped, number, "")
        i = 2
        while i < len(words):
            word = words[i]
            value = words[i + 1] if i + 1 < len(words) else ""
            if word in ("-j", "--jump", "-g", "--goto"):
                rule.action = value.lower()
                i += 2
            elif word in _IPT_OPTS:
                setattr(rule, _IPT_OPTS[word], value)
                i += 2
            else:
                i += 1
        result.rules.append(rule)
    return result


_NFT_TABLE = re.compile(r"^table\s+(\S+)\s+(\S+)")
_NFT_CHAIN = re.compile(r"^chain\s+(\S+)")
_NFT_VERDICT = re.compile(r"\b(accept|drop|reject|jump\s+\S+|goto\s+\S+|return|queue)\b")
_NFT_PORT = re.compile(r"\b(udp|tcp|th)\s+(dport|sport)\s+(\{[^}]*\}|\S+)")
_NFT_ADDR = re.compile(r"\bip6?\s+(saddr|daddr)\s+(\S+)")
_NFT_IFACE = re.compile(r"\b(iifname|oifname|iif|oif)\s+\"?([^\s\"]+)\"?")
_NFT_PROTO = re.compile(r"\b(?:meta\s+l4proto|ip\s+protocol)\s+(udp|tcp)\b")


def _parse_nft(data: bytes, path: str) -> FirewallRules:
    result = FirewallRules(path, "nft")
    table = chain = ""
    for number, line in numbered_lines(data):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped == "}":
            continue
        m = _NFT_TABLE.match(stripped)
        if m:
            table = f"{m.group(1)} {m.group(2)}"
            continue
        m = _NFT_CHAIN.match(stripped)
        if m:
            chain = m.group(1)
            continue
        if stripped.startswith(("type ", "policy ")) or not chain:
            continue
        verdict = _NFT_VERDICT.search(stripped)
        if not verdict:
            continue
        rule = FirewallRule("nft", table, chain, stripped, number, verdict.group(1).split()[0])
        for proto, which, ports in _NFT_PORT.findall(stripped):
            rule.protocol = "" if proto == "th" else proto
            if which == "dport":
                rule.dports = ports
            else:
                rule.sports = ports
        proto = _NFT_PROTO.search(stripped)
        if proto:
            rule.protocol = proto.group(1)
        for which, addr in _NFT_ADDR.findall(stripped):
            if which == "saddr":
                rule.source = addr
            else:
                rule.destination = addr
        for which, iface in _NFT_IFACE.findall(stripped):
            if which.startswith("i"):
                rule.in_iface = iface
            else:
                rule.out_iface = iface
        result.rules.append(rule)
    return result


def describe(rule: FirewallRule) -> Optional[str]:
    """A short human description of a blocking rule."""
    parts = [f"{rule.family} {rule.table}/{rule.chain}".strip(), rule.action]
    if rule.source:
        parts.append(f"from {rule.source}")
    if rule.destination:
        parts.append(f"to {rule.destination}")
    return " ".join(parts)
