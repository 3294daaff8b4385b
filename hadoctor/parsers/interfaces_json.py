"""``ip -j addr`` (also ``-p`` and ``-d``) JSON."""

from __future__ import annotations

import json
import re
from typing import List, Optional

from hadoctor.parsers.base import decode, shorten
from hadoctor.parsers.interfaces_model import (
    ADDR_FLAG_BITS, Address, Interface, InterfaceTable, _Collector,
    _check_flags, _finish, _ip_interface, _ip_or_none, _kind_from_text, _label, _mac,
)

# --------------------------------------------------------------------------- ip -j addr

def _key_lines(text: str, key: str) -> List[int]:
    """Line number of each ``"key":`` in order, so JSON items can name where they came from."""
    return [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r'"%s"\s*:' % re.escape(key), text)]


def parse_ip_json(data: bytes, path: str) -> InterfaceTable:
    """Parse ``ip -j addr`` (or ``ip -j -p addr``, ``ip -j -d addr``) output.

    >>> t = parse_ip_json(b'[{"ifindex":3,"link":"eth1","ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],'
    ...     b'"mtu":1500,"operstate":"UP","link_type":"ether","address":"72:ea:5e:da:68:c2","altnames":["enp0s3"],'
    ...     b'"addr_info":[{"family":"inet","local":"10.250.200.10","prefixlen":25,"broadcast":"10.250.200.127",'
    ...     b'"scope":"global","secondary":true,"label":"eth0:0"}]}]', "ip-j-a.json")
    >>> i = t.get("enp0s3"); (i.name, i.link, str(i.addresses[0].interface), i.addresses[0].label)
    ('eth0', 'eth1', '10.250.200.10/25', 'eth0:0')
    >>> parse_ip_json(b'[{"ifname": "eth0",\\n  oops}]', "x.json").problems[0].line
    2
    """
    problems = _Collector(path)
    table = InterfaceTable(path, "ip-json")
    text = decode(data)
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        problems.add(exc.lineno, f"not valid JSON: {exc.msg}", lines[exc.lineno - 1] if exc.lineno <= len(lines) else "", code="ifaces-bad-json")
        return _finish(table, problems)
    except RecursionError:
        problems.add(0, "JSON nested too deeply", code="ifaces-bad-json")
        return _finish(table, problems)
    except ValueError:  # json refuses numbers of more than 4,300 digits
        problems.add(0, "not valid JSON: a number too long to be one", code="ifaces-bad-json")
        return _finish(table, problems)
    if not isinstance(items, list):
        problems.add(1, "expected a JSON list of interfaces (the output of ip -j addr)", code="ifaces-bad-json")
        return _finish(table, problems)
    name_lines = iter(_key_lines(text, "ifname"))
    local_lines = iter(_key_lines(text, "local"))
    for item in items:
        if item == {}:
            continue  # ``ip -j -4 addr`` prints {} for interfaces it filtered out
        if not isinstance(item, dict) or not isinstance(item.get("ifname"), str):
            problems.add(0, "interface entry without an ifname", shorten(json.dumps(item)), code="ifaces-bad-entry")
            continue
        iface = _json_interface(item, next(name_lines, 0), problems)
        infos = item.get("addr_info") or []
        if not isinstance(infos, list):
            problems.add(iface.line, f"addr_info of {iface.name} is not a list", shorten(json.dumps(infos)), code="ifaces-bad-entry")
            infos = []
        for info in infos:
            line = next(local_lines, iface.line) if isinstance(info, dict) and "local" in info else iface.line
            addr = _json_address(info, iface.name, line, problems)
            if addr is not None:
                iface.addresses.append(addr)
        table.interfaces.append(iface)
    return _finish(table, problems)


def _json_int(value: object) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _json_str(value: object) -> Optional[str]:
    return value if isinstance(value, str) else None


def _json_interface(item: dict, line: int, problems: _Collector) -> Interface:
    name = item["ifname"]
    flags = item.get("flags")
    flags = [f for f in flags if isinstance(f, str)] if isinstance(flags, list) else []
    if "link" in item:
        link = _json_str(item["link"]) or "NONE"  # ``"link": null`` is iproute2's @NONE
    elif _json_int(item.get("link_index")) is not None:
        link = f"if{item['link_index']}"
    else:
        link = None
    linkinfo = item.get("linkinfo")
    kind = _json_str(linkinfo.get("info_kind")) if isinstance(linkinfo, dict) else None
    altnames = item.get("altnames")
    iface = Interface(
        name, _json_int(item.get("ifindex")), _check_flags(flags, line, name, problems),
        _json_str(item.get("operstate")), _json_int(item.get("mtu")), _mac(_json_str(item.get("address"))),
        link, _json_str(item.get("master")), kind,
        [a for a in altnames if isinstance(a, str)] if isinstance(altnames, list) else [],
        line=line, link_type=_json_str(item.get("link_type")))
    iface.kind = iface.kind or _kind_from_text(iface)
    return iface


def _json_address(info: object, ifname: str, line: int, problems: _Collector) -> Optional[Address]:
    if not isinstance(info, dict):
        problems.add(line, f"address entry of {ifname} is not an object", shorten(json.dumps(info)), code="ifaces-bad-entry")
        return None
    local, prefix = _json_str(info.get("local")), _json_int(info.get("prefixlen"))
    if local is None or prefix is None:
        problems.add(line, f"address entry of {ifname} lacks local or prefixlen", shorten(json.dumps(info)), code="ifaces-bad-entry")
        return None
    addr = _ip_interface(local, str(prefix), line, local, problems)
    if addr is None:
        return None
    peer_text = _json_str(info.get("address"))
    peer = _ip_interface(peer_text, str(prefix), line, peer_text, problems) if peer_text else None
    flags = [name for name, _ in ADDR_FLAG_BITS if info.get(name) is True]
    return Address(addr, _ip_or_none(_json_str(info.get("broadcast"))), _json_str(info.get("scope")),
                   _label(_json_str(info.get("label")), ifname), info.get("secondary") is True, flags, peer, line)
