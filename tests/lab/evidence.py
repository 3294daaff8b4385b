"""Read a lab capture (node folder layout + scenario.json + heartbeat.pcap) back.

Used by the live lab tests and by the tests of the committed fixtures; no root needed.

>>> parse_pcap(b"")
[]
"""

from __future__ import annotations

import ipaddress
import json
import struct
from pathlib import Path

NODE_FILES = ("ha.cf", "haresources", "authkeys", "authkeys.stat", "heartbeat.log",
              "ip-a.txt", "ip-j-a.json", "uname-n.txt", "packages.txt",
              "nft-ruleset.txt", "iptables-save.txt")
FAKE_KEY_MARK = "lab-fixture-key-not-secret"


def doc(cap: Path) -> dict:
    return json.loads((Path(cap) / "scenario.json").read_text())


def nodes(cap: Path) -> list[str]:
    return sorted(p.name for p in Path(cap).iterdir() if p.is_dir())


def log(cap: Path, node: str) -> str:
    """heartbeat.log as text (auth failures put raw bytes in it: decoded with replace)."""
    return (Path(cap) / node / "heartbeat.log").read_bytes().decode("utf-8", errors="replace")


def addresses(cap: Path, node: str) -> list[tuple[str, str]]:
    """[(ifname, address)] IPv4 from the node's ip-j-a.json."""
    links = json.loads((Path(cap) / node / "ip-j-a.json").read_text() or "[]")
    return [(link["ifname"], a["local"]) for link in links
            for a in link.get("addr_info", []) if a.get("family") == "inet"]


def holders(cap: Path, ip: str | None = None) -> list[str]:
    """Nodes whose `ip -j a` shows ``ip`` (default: the scenario's VIP)."""
    ip = ip or doc(cap)["lab"]["vip"]
    return [n for n in nodes(cap) if any(a == ip for _, a in addresses(cap, n))]


def layout_problems(cap: Path) -> list[str]:
    """What is missing or wrong in a capture, against docs/architecture.md."""
    cap = Path(cap)
    problems = []
    d = doc(cap)
    for key in ("scenario", "description", "captured_at", "lab", "events", "expected",
                "observed", "packages"):
        if key not in d:
            problems.append(f"scenario.json lacks {key}")
    if sorted(d.get("lab", {}).get("nodes", {})) != nodes(cap):
        problems.append("node folders differ from scenario.json lab.nodes")
    for n in nodes(cap):
        for f in NODE_FILES:
            if not (cap / n / f).is_file():
                problems.append(f"{n}/{f} missing")
        stat = (cap / n / "authkeys.stat").read_text().split() if (
            cap / n / "authkeys.stat").is_file() else []
        if len(stat) != 3 or not stat[0].isdigit():
            problems.append(f"{n}/authkeys.stat is not 'mode owner group': {stat}")
        ak = (cap / n / "authkeys").read_text() if (cap / n / "authkeys").is_file() else ""
        for line in ak.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0].isdigit() and FAKE_KEY_MARK not in parts[2]:
                problems.append(f"{n}/authkeys holds a key that is not an obvious fake")
        for a_ifname, a in addresses(cap, n):
            if not (ipaddress.ip_address(a) in ipaddress.ip_network("10.250.0.0/16")
                    or a.startswith("127.")):
                problems.append(f"{n}: address {a} outside 10.250.0.0/16")
    return problems


def parse_pcap(data: bytes) -> list[tuple[str, str, int, bytes]]:
    """(src ip, dst ip, udp dport, payload) for each IPv4/UDP frame of an Ethernet pcap."""
    out: list[tuple[str, str, int, bytes]] = []
    if len(data) < 24:
        return out
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    pos = 24
    while pos + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[pos + 8:pos + 12])[0]
        frame = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        if linktype != 1 or len(frame) < 42 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] != 17:
            continue
        udp = ip[ihl:]
        dport = struct.unpack(">H", udp[2:4])[0]
        out.append((str(ipaddress.ip_address(ip[12:16])), str(ipaddress.ip_address(ip[16:20])),
                    dport, udp[8:]))
    return out
