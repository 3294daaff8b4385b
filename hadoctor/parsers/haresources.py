"""Parser for heartbeat's R1 ``/etc/ha.d/haresources``, read the way ResourceManager reads it.

One logical line is one resource group: ``<preferred node> <resource>...``; a trailing
``\\`` continues it. A resource spelled like an IP address means ``IPaddr::<it>``;
``script::a::b`` passes ``a b`` to the script. IPaddr/IPaddr2 arguments use the
shorthand ``ip[/cidr[/nic[/broadcast]]]`` (a third part starting with a digit is the
broadcast address).

>>> res = parse_haresources(b"node1 IPaddr::10.0.0.50/24/eth0 Filesystem::/dev/drbd0::/srv::ext4 \\\\\\n"
...                         b"      httpd\\n", "haresources")
>>> group = res.groups[0]
>>> group.node, group.key, group.line, group.end_line, [r.script for r in group.resources]
('node1', 'IPaddr::10.0.0.50/24/eth0', 1, 2, ['IPaddr', 'Filesystem', 'httpd'])
>>> ip = group.resources[0].ip
>>> ip.address, ip.prefix, ip.nic, ip.broadcast
('10.0.0.50', 24, 'eth0', None)
>>> parse_haresources(b"n1 192.168.1.5/255.255.255.0\\n").groups[0].resources[0].ip.prefix
24
"""

from __future__ import annotations

import ipaddress
import re
from bisect import bisect_right
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

from hadoctor.parsers.base import MAX_CONFIG_LINE, Problem, numbered_lines, shorten
from hadoctor.parsers.hacf import ascii_lower, template_marker

#: scripts whose single argument is the ip[/cidr[/nic[/broadcast]]] shorthand
IP_SCRIPTS = frozenset(("IPaddr", "IPaddr2"))
_WORD = re.compile(r"[^ \t]+")  # ResourceManager's sed/awk split on spaces and tabs only
_PLACEHOLDER = re.compile(r"<[A-Za-z_][\w .-]{0,64}>")  # bounded: a search from every "<" stays linear


def looks_like_ip(token: str) -> bool:
    """ResourceManager's shell glob ``[0-9]*.[0-9]*.[0-9]*.[0-9]*`` (suffixes like /24/eth0 included).

    >>> looks_like_ip("10.0.0.1/24/eth0"), looks_like_ip("httpd"), looks_like_ip("1.2.3")
    (True, False, False)
    """
    if not token[:1].isdigit() or not token[:1].isascii():
        return False
    position = 1
    for _ in range(3):
        while True:
            dot = token.find(".", position)
            if dot < 0:
                return False
            position = dot + 1
            if position < len(token) and token[position] in "0123456789":
                position += 1
                break
    return True


@dataclass
class IpSpec:
    """The IPaddr/IPaddr2 shorthand, split as heartbeat's IPaddr wrapper splits it.

    ``cidr_text`` is the netmask field as written (``24`` or ``255.255.255.0``);
    ``prefix`` its length (None if absent or invalid). ``nic`` may carry an alias
    label (``eth0:1``); ``base_nic`` drops it.
    """

    address: str
    cidr_text: Optional[str]
    prefix: Optional[int]
    nic: Optional[str]
    broadcast: Optional[str]
    line: int

    @property
    def ip(self) -> Optional[ipaddress.IPv4Address]:
        try:
            return ipaddress.IPv4Address(self.address)
        except ValueError:
            return None

    @property
    def interface(self) -> Optional[ipaddress.IPv4Interface]:
        """address/prefix when both are valid (the subnet the VIP is meant to live in)."""
        ip = self.ip
        if ip is None or self.prefix is None:
            return None
        return ipaddress.IPv4Interface(f"{ip}/{self.prefix}")

    @property
    def base_nic(self) -> Optional[str]:
        return self.nic.split(":", 1)[0] if self.nic else None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Resource:
    """One resource: the token as written, the script it runs and the script's arguments."""

    token: str
    script: str
    args: List[str]
    line: int
    ip: Optional[IpSpec] = None

    @property
    def canonical(self) -> str:
        """The token as ResourceManager names it (a bare IP becomes ``IPaddr::ip``)."""
        return "::".join([self.script] + self.args)

    def to_dict(self) -> dict:
        return {"token": self.token, "script": self.script, "args": list(self.args), "line": self.line,
                "ip": self.ip.to_dict() if self.ip else None}


@dataclass
class ResourceGroup:
    """A logical line: preferred ``node`` (lower-cased), resources in start order, lines it spans."""

    node: str
    resources: List[Resource]
    line: int
    end_line: int
    raw: str
    written_node: str = ""

    @property
    def key(self) -> Optional[str]:
        """The group's key: its first resource as written (what ResourceManager listkeys prints)."""
        return self.resources[0].token if self.resources else None

    @property
    def ip_resources(self) -> List[Resource]:
        return [r for r in self.resources if r.ip is not None]

    def to_dict(self) -> dict:
        return {"node": self.node, "written_node": self.written_node, "key": self.key, "line": self.line,
                "end_line": self.end_line, "raw": self.raw, "resources": [r.to_dict() for r in self.resources]}


@dataclass
class HaResources:
    path: str
    groups: List[ResourceGroup] = field(default_factory=list)
    problems: List[Problem] = field(default_factory=list)
    #: first line with a template marker or <placeholder>, 0 if none
    template_line: int = 0

    @property
    def keys(self) -> List[str]:
        return [g.key for g in self.groups if g.key]

    def groups_for(self, node: str) -> List[ResourceGroup]:
        wanted = ascii_lower(node)
        return [g for g in self.groups if g.node == wanted]

    @property
    def ip_resources(self) -> List[Resource]:
        return [r for g in self.groups for r in g.ip_resources]

    def to_dict(self) -> dict:
        return {"path": self.path, "groups": [g.to_dict() for g in self.groups],
                "template_line": self.template_line, "problems": [asdict(p) for p in self.problems]}


def parse_haresources(data: bytes, path: str = "haresources") -> HaResources:
    """Parse haresources bytes; never raises. An empty file has no groups and no problem."""
    result = HaResources(path)
    problems = result.problems
    if b"\r\n" in data:
        first = data[:data.index(b"\r\n")].count(b"\n") + 1
        problems.append(Problem(path, first, "DOS line endings: ResourceManager keeps the CR as part of the last "
                                             "word of each line (httpd becomes 'httpd\\r'); convert the file",
                                "", "error", code="haresources-crlf"))
    template_lines = 0
    start = 0
    joined = ""
    raws: List[str] = []
    starts: List[int] = []  # offset in `joined` where each physical line begins
    numbers: List[int] = []  # and that line's number
    for number, text in numbered_lines(data):
        if len(text) > MAX_CONFIG_LINE:
            problems.append(Problem(path, number, f"line longer than {MAX_CONFIG_LINE} characters; not read", code="line-too-long"))
            continue
        if not raws:
            content, hash_, _ = text.partition("#")
            if hash_ and content.strip(" \t"):
                problems.append(Problem(path, number, "inline comment: ResourceManager drops everything from '#', "
                                                      "heartbeat's startup check only knows comments at the start "
                                                      "of a line", shorten(text), "warning", code="haresources-inline-comment"))
            start, joined, starts, numbers = number, content, [], []
        else:
            # ResourceManager strips comments before joining, so a continued line keeps its '#...'
            if "#" in text:
                problems.append(Problem(path, number, "'#' on a continued line is not a comment for ResourceManager: "
                                                      "its words become resources", shorten(text), "error", code="haresources-continued-comment"))
            joined += text
        starts.append(len(joined) - len(text) if raws else 0)
        numbers.append(number)
        raws.append(text)
        if joined.endswith("\\"):
            joined = joined[:-1]
            continue
        template_lines += _add_group(result, joined, raws, starts, numbers)
        raws = []
    if raws:
        problems.append(Problem(path, start, "the last line ends with '\\' but nothing follows", "", "warning", code="haresources-dangling-continuation"))
        template_lines += _add_group(result, joined + "\\", raws, starts, numbers)
    if template_lines:
        problems.insert(0, Problem(path, result.template_line,
                                   f"looks like an unrendered template ({template_lines} line(s) with Jinja/ERB "
                                   "markers or <placeholders>, not read); give the file as installed on the node",
                                   "", "error", code="unrendered-template"))
    _check_keys(result)
    return result


def _add_group(result: HaResources, joined: str, raws: List[str], starts: List[int], numbers: List[int]) -> int:
    """Turn one logical line into a group; returns 1 when it was skipped as a template line."""
    words = list(_WORD.finditer(joined))
    if not words:
        return 0
    start = numbers[0]
    if any(template_marker(raw) for raw in raws) or _PLACEHOLDER.search(joined):
        if not result.template_line:
            result.template_line = start
        return 1
    raw = "\n".join(raws)
    node = words[0].group()
    group = ResourceGroup(ascii_lower(node), [], start, numbers[-1], raw, node)
    for word in words[1:]:
        line = numbers[bisect_right(starts, word.start()) - 1]  # the physical line the word starts on
        group.resources.append(_resource(result, word.group(), line, raw))
    if not group.resources:
        result.problems.append(Problem(result.path, start, f"resource group for [{group.node}] lists no resources",
                                       shorten(raw), "error", code="haresources-empty-group"))
    result.groups.append(group)
    return 0


def _resource(result: HaResources, token: str, line: int, raw: str) -> Resource:
    if looks_like_ip(token):
        script, args = "IPaddr", [token]
    elif "::" in token:
        script, _, rest = token.partition("::")
        args = rest.split("::")
        if "" in args:
            result.problems.append(Problem(result.path, line, f"[{token}]: an empty '::' argument is dropped by the "
                                                              "shell, so later arguments shift", shorten(raw),
                                           "warning", code="haresources-empty-argument"))
    else:
        script, args = token, []
    resource = Resource(token, script, args, line)
    if script in IP_SCRIPTS:
        if len(args) != 1:
            result.problems.append(Problem(result.path, line, f"[{token}]: {script} takes one argument "
                                                              "ip[/cidr[/nic[/broadcast]]]; its wrapper stops with "
                                                              "a usage error", shorten(raw), "error", code="haresources-ip-arguments"))
        else:
            resource.ip = _ip_spec(result, args[0], token, line, raw)
    return resource


def _ip_spec(result: HaResources, arg: str, token: str, line: int, raw: str) -> IpSpec:
    """Split the shorthand as the IPaddr wrapper does: repeated slashes collapse to one."""
    def problem(message: str, severity: str = "error", *, code: str) -> None:
        result.problems.append(Problem(result.path, line, f"[{token}]: {message}", shorten(raw), severity, code))

    address, _, rest = arg.partition("/")
    rest = rest.lstrip("/")
    cidr = nic = broadcast = None
    if rest:
        cidr, _, rest = rest.partition("/")
        rest = rest.lstrip("/")
        first, _, after = rest.partition("/")
        if first[:1].isdigit():
            broadcast = first
        elif first:
            nic = first
            broadcast, _, after = after.lstrip("/").partition("/")
        if after:
            problem(f"[{after}] after the broadcast address is ignored", "warning", code="haresources-ip-shorthand")
    if "//" in arg:
        problem(f"empty field in '{arg}': the IPaddr wrapper squeezes the slashes and reads netmask "
                f"{cidr or '(none)'}, nic {nic or '(none)'}", "warning", code="haresources-ip-shorthand")
    if arg.endswith("/"):
        problem("trailing '/': harmless, the wrapper passes an empty last field", "warning", code="haresources-ip-shorthand")
    spec = IpSpec(address, cidr, None, nic, broadcast or None, line)
    if spec.ip is None:
        problem(f"IP address [{address}] not valid.", code="haresources-bad-ip")
    if cidr:
        spec.prefix = _prefix(cidr)
        if spec.prefix is None:
            problem(f"Invalid netmask specification [{cidr}]", code="haresources-bad-netmask")
    if spec.broadcast:
        try:
            ipaddress.IPv4Address(spec.broadcast)
        except ValueError:
            problem(f"Invalid broadcast address [{spec.broadcast}].", code="haresources-bad-broadcast")
    return spec


def _prefix(text: str) -> Optional[int]:
    """Prefix length of ``24`` or ``255.255.255.0``; None when findif would refuse it (0 included)."""
    if text.isascii() and text.isdigit():
        bits = int(text) if len(text) <= 3 else -1
        return bits if 1 <= bits <= 32 else None
    try:
        mask = int(ipaddress.IPv4Address(text))
    except ValueError:
        return None
    bits = bin(mask).count("1")
    contiguous = mask == (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
    return bits if contiguous and bits >= 1 else None


def _check_keys(result: HaResources) -> None:
    seen: Dict[str, ResourceGroup] = {}
    for group in result.groups:
        if not group.resources:
            continue
        canonical = group.resources[0].canonical
        first = seen.get(canonical)
        if first is None:
            seen[canonical] = group
            continue
        result.problems.append(Problem(
            result.path, group.line,
            f"resource group key [{group.key}] already starts the group on line {first.line}; the first "
            "resource of each line must be unique (ResourceManager finds groups by it)", shorten(group.raw), code="haresources-duplicate-key"))
