"""``bundle create --obfuscate``: map IP addresses and host names consistently across every node.

Subnets are kept: every known network (an interface's address with its prefix; unknown IPv4
addresses count as their /24, unknown IPv6 as their /64) maps as a whole to a new network of the
same length and each address keeps its host part, so two addresses in one subnet stay in one
subnet and a VIP outside every interface's subnet stays outside. Networks that contain others map
as the outer unit, so nesting is kept too. Host names (cluster nodes, ``uname -n``, names in
/etc/hosts for mapped addresses) become ``node1``, ``node2`` ... for members and ``host1`` ... for
other hosts. Loopback, link-local, multicast, unspecified and netmask-like addresses are not
identifying and stay. The map (original -> mapped, with roles) goes to a separate file.

>>> ob = Obfuscator()
>>> ob.learn_network("10.1.2.11/24"); ob.learn_network("10.1.2.12/24")
>>> ob.add_name("db-a", "node"); ob.add_name("db-b", "node")
>>> ob.finish()
>>> ob.text("db-a 10.1.2.11 sees db-b at 10.1.2.12, VIP 10.1.2.100, gw 192.0.2.1 mask 255.255.255.0")
'node1 100.64.0.11 sees node2 at 100.64.0.12, VIP 100.64.0.100, gw 100.64.1.1 mask 255.255.255.0'
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple, Union

Net = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

#: Address-shaped words in free text; bundle verify compiles the same patterns for bytes, so it
#: looks for exactly what obfuscation replaces.
IPV4_PATTERN = r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d]|\.\d)"
IPV6_PATTERN = r"(?<![0-9A-Fa-f:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![0-9A-Fa-f:])"
_V4 = re.compile(IPV4_PATTERN)
_V6 = re.compile(IPV6_PATTERN)
V4_POOL = ipaddress.ip_network("100.64.0.0/10")
V6_POOL = ipaddress.ip_network("fd00:bd::/32")


def _keep(addr) -> bool:
    """Addresses that identify nothing and stay as they are."""
    if addr.version == 4:
        if addr.is_loopback or addr.is_multicast or addr.is_link_local or addr.is_unspecified:
            return True
        first = int(addr) >> 24
        return first in (0, 255) or _is_netmask(addr)
    return addr.is_loopback or addr.is_multicast or addr.is_link_local or addr.is_unspecified


def _is_netmask(addr) -> bool:
    n = int(addr)
    inv = (~n) & 0xFFFFFFFF
    return n != 0 and (inv & (inv + 1)) == 0 and (n >> 24) >= 128


@dataclass
class Obfuscator:
    """Collect networks and names (``learn_*``/``add_name``), ``finish()``, then map text."""

    networks: Set[Net] = field(default_factory=set)
    roles: Dict[str, str] = field(default_factory=dict)         # original address -> role
    names: Dict[str, str] = field(default_factory=dict)         # original name (lower) -> role
    _units: Dict[Net, Net] = field(default_factory=dict)
    _name_map: Dict[str, str] = field(default_factory=dict)
    _name_rx: Optional[re.Pattern] = None
    seen: Dict[str, str] = field(default_factory=dict)          # every address actually mapped

    # ---- learning
    def learn_network(self, cidr: str) -> None:
        try:
            iface = ipaddress.ip_interface(cidr)
        except ValueError:
            return
        if not _keep(iface.ip) and iface.network.prefixlen < iface.max_prefixlen:
            self.networks.add(iface.network)

    def add_address(self, addr: str, role: str) -> None:
        try:
            ip = ipaddress.ip_address(addr.split("%")[0])
        except ValueError:
            return
        if not _keep(ip):
            self.roles.setdefault(str(ip), role)

    def add_name(self, name: str, role: str) -> None:
        name = name.strip().lower()
        if name and name not in ("localhost", "localhost.localdomain", "*") and re.fullmatch(r"[a-z0-9][a-z0-9._-]*",
                                                                                              name):
            if self.names.get(name) != "node":
                self.names[name] = role

    def finish(self) -> None:
        """Choose the mapped networks (deterministic: sorted) and names."""
        counters = {"node": 0, "peer": 0, "host": 0}
        for name in sorted(self.names, key=lambda n: (self.names[n] != "node", n)):
            role = self.names[name]
            counters[role] = counters.get(role, 0) + 1
            self._name_map[name] = f"{role}{counters[role]}"
        # names also seen as the first label of an FQDN map with it
        if self._name_map:
            alts = "|".join(re.escape(n) for n in sorted(self._name_map, key=len, reverse=True))
            self._name_rx = re.compile(rf"(?<![A-Za-z0-9_-])({alts})(?![A-Za-z0-9_-])", re.IGNORECASE)
        outer = sorted(self.networks, key=lambda n: (n.version, n.prefixlen, int(n.network_address)))
        for net in outer:
            if not any(net != o and net.version == o.version and net.subnet_of(o) for o in outer):
                self._allocate(net)

    def _allocate(self, net: Net) -> Net:
        if net in self._units:
            return self._units[net]
        pool = V4_POOL if net.version == 4 else V6_POOL
        if net.prefixlen < pool.prefixlen:
            pool = ipaddress.ip_network("10.0.0.0/8") if net.version == 4 else ipaddress.ip_network("fd00::/8")
        used = set(self._units.values())
        originals = set(self._units) | self.networks
        for candidate in pool.subnets(new_prefix=max(net.prefixlen, pool.prefixlen)):
            if any(candidate.overlaps(u) for u in used) or any(candidate.overlaps(o) for o in originals):
                continue
            self._units[net] = candidate
            return candidate
        raise ValueError(f"no room to map {net}")

    # ---- mapping
    def _unit(self, ip) -> Net:
        for net in self._units:
            if net.version == ip.version and ip in net:
                return net
        return ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 64}", strict=False)

    def address(self, text: str) -> str:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            return text
        if _keep(ip):
            return text
        unit = self._unit(ip)
        mapped_net = self._allocate(unit)
        host = int(ip) - int(unit.network_address)
        mapped = str(ipaddress.ip_address(int(mapped_net.network_address) + host))
        self.seen[str(ip)] = mapped
        return mapped

    def name(self, text: str) -> str:
        return self._name_map.get(text.lower(), text)

    def text(self, text: str) -> str:
        text = _V4.sub(lambda m: self.address(m.group(0)), text)
        text = _V6.sub(self._v6_match, text)
        if self._name_rx is not None:
            text = self._name_rx.sub(lambda m: self._name_map[m.group(1).lower()], text)
        return text

    def _v6_match(self, m: re.Match) -> str:
        token, text, start, end = m.group(0), m.string, m.start(), m.end()
        if end < len(text) and text[end] == "." and end + 1 < len(text) and text[end + 1].isdigit():
            return token            # the start of an IPv4 address (IPaddr::10.0.0.1, ::ffff:10.0.0.1)
        if token.startswith("::") and start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
            return "::" + self._v6(token[2:])   # haresources' resource::argument separator
        return self._v6(token)

    def _v6(self, token: str) -> str:
        try:
            ipaddress.IPv6Address(token)
        except ValueError:
            return token
        return self.address(token)

    def data(self, data: bytes) -> bytes:
        return self.text(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")

    def map_document(self) -> dict:
        """The private map: never inside the archive."""
        nets = {str(o): str(m) for o, m in sorted(self._units.items(), key=lambda kv: str(kv[0]))}
        addresses = {o: {"mapped": m, "role": self.roles.get(o, "address")}
                     for o, m in sorted(self.seen.items())}
        names = {o: {"mapped": m, "role": self.names[o]} for o, m in sorted(self._name_map.items())}
        return {"format": "hadoctor-bundle-map/1", "networks": nets, "addresses": addresses, "names": names}


def originals(map_doc: dict) -> Tuple[List[str], List[str]]:
    """(addresses, names) that must not appear in an obfuscated bundle."""
    return list((map_doc.get("addresses") or {}).keys()), list((map_doc.get("names") or {}).keys())


def obfuscate_tree(staging, manifest: dict, nodes) -> Tuple[dict, dict]:
    """Learn networks, VIPs and names from every node folder below ``staging``, then rewrite every file
    (nested .gz included), the node folder names and the manifest. Returns (manifest, map)."""
    import gzip
    import json
    import os
    from pathlib import Path

    from hadoctor.datums import DATUMS, NODEINFO_PATH

    staging = Path(staging)
    ob = Obfuscator()
    folders = sorted(p for p in staging.iterdir() if p.is_dir())

    def parsed(folder: Path, datum: str):
        """The datum's model from the folder's first present file: the registry's file names and parser."""
        spec = DATUMS[datum]
        for name in spec.files:
            f = folder / name
            if f.is_file():
                return spec.parse_function()(f.read_bytes(), str(f))
        return None
    member_names = {n.lower() for n in nodes}
    for folder in folders:               # VIPs first: an address's first role wins
        haresources = parsed(folder, "haresources")
        for res in haresources.ip_resources if haresources is not None else ():
            if res.ip is not None:
                ob.add_address(res.ip.address, "vip")
                if res.ip.interface is not None:
                    ob.learn_network(str(res.ip.interface))
    for folder in folders:
        member_names.add(folder.name.lower())
        table = parsed(folder, "addresses")
        for _iface, addr in table.addresses() if table is not None else ():
            ob.learn_network(str(addr.interface))
            ob.add_address(str(addr.ip), "node")
        cf = parsed(folder, "ha_cf")
        if cf is not None:
            member_names |= {n.lower() for n in cf.node_names}
            for m in cf.media:
                for attr in ("peer", "group"):
                    value = getattr(m, attr, None)
                    if value:
                        ob.add_address(str(value), "peer" if attr == "peer" else "group")
        uname = parsed(folder, "uname")
        nodeinfo = folder / os.path.basename(NODEINFO_PATH)
        for first in ([uname] if uname else []) + (nodeinfo.read_text(errors="replace").splitlines()[:1]
                                                  if nodeinfo.is_file() else []):
            member_names.add(first.strip().lower())
    for name in member_names:
        ob.add_name(name, "node")
    for folder in folders:
        hosts = parsed(folder, "hosts")
        for entry in hosts.entries if hosts is not None else ():
            if _keep(entry.address):
                continue
            for n in entry.names:
                short = n.lower().split(".")[0]
                ob.add_name(n.lower(), "node" if short in member_names else "host")
    ob.finish()
    for path in sorted(staging.rglob("*")):
        if not path.is_file():
            continue
        st = path.stat()
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.compress(ob.data(gzip.decompress(data)), 6, mtime=int(st.st_mtime))
        else:
            data = ob.data(data)
        path.write_bytes(data)
        os.utime(path, (st.st_atime, st.st_mtime))
    for folder in folders:
        mapped = ob.name(folder.name)
        if mapped != folder.name:
            folder.rename(staging / mapped)
    doc = json.loads(ob.text(json.dumps(manifest)))
    doc["options"]["obfuscated"] = True
    return doc, ob.map_document()
