"""A real capture of IP fragments: two network namespaces this test makes, joined by a veth with a 576-byte
MTU (10.250.214.1 -> .2) and a loopback with IPv6's minimum MTU of 1280 (::1), the sending kernel cutting a
4 KB heartbeat status message into fragments, and tcpdump (-i any: the Linux cooked link type, both
directions) recording them. hadoctor must give back exactly the bytes that were sent, once per datagram."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hadoctor.wire.codec import decode, encode_classic, status_message
from hadoctor.wire.pcap import PcapReader

ROOT = Path(__file__).resolve().parents[2]
MESSAGE = encode_classic(status_message("node01", seq=1, hg=1, ts=1)
                         .add("resources", "IPaddr::10.250.214.100/24/eth0 " * 130))
SEND = ("import socket, sys\n"
        "family, dst = (socket.AF_INET6, '::1') if sys.argv[1] == '6' else (socket.AF_INET, '10.250.214.2')\n"
        "s = socket.socket(family, socket.SOCK_DGRAM)\n"
        "s.sendto(sys.stdin.buffer.read(), (dst, 694))\n")


def _why_not() -> str:
    if os.geteuid() != 0:
        return "creating network namespaces and capturing need root"
    for tool in ("ip", "tcpdump"):
        if not shutil.which(tool):
            return f"{tool} is not installed (test.sh installs it)"
    return ""


@pytest.fixture
def namespaces():
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    a, b = f"hdfrag-{os.getpid()}-a", f"hdfrag-{os.getpid()}-b"
    va, vb = f"hdfa{os.getpid() % 100000}", f"hdfb{os.getpid() % 100000}"

    def ip(*args):
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)

    try:
        ip("netns", "add", a)
        ip("netns", "add", b)
        ip("link", "add", va, "netns", a, "type", "veth", "peer", "name", vb, "netns", b)
        for ns, dev, addr in ((a, va, "10.250.214.1/24"), (b, vb, "10.250.214.2/24")):
            ip("-n", ns, "addr", "add", addr, "dev", dev)
            ip("-n", ns, "link", "set", dev, "mtu", "576", "up")
            ip("-n", ns, "link", "set", "lo", "mtu", "1280", "up")
        yield a, b
    finally:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def test_a_real_capture_of_fragments_is_reassembled(namespaces, tmp_path):
    a, b = namespaces
    assert len(MESSAGE) > 4000
    path = tmp_path / "frag.pcap"
    dump = subprocess.Popen(["ip", "netns", "exec", b, "tcpdump", "-i", "any", "--immediate-mode", "-s", "0", "-U",
                             "-n", "-w",
                             str(path), "udp or ip6"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        said = b""
        while b"listening on" not in said:  # tcpdump says so once it captures
            line = dump.stderr.readline()
            assert line, said
            said += line
        for ns, family in ((a, "4"), (b, "6")):
            subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", SEND, family], input=MESSAGE,
                           check=True, timeout=30)
        time.sleep(0.5)
    finally:
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=30)

    reader = PcapReader(str(path))
    packets = [p for p in reader if p.dport == 694]
    assert reader.linktype in (113, 276)  # -i any: Linux cooked capture
    # a datagram seen twice on -i any (out and in on lo) is still one datagram: the rest are duplicates
    assert sorted({(p.src, p.dst) for p in packets}) == [("10.250.214.1", "10.250.214.2"), ("::1", "::1")]
    for p in packets:
        assert p.payload == MESSAGE and p.reassembled and not p.truncated
        assert decode(p.payload).message.get("t") == "status"
    assert reader.stats["fragments"] >= 8 + 4  # 4 KB over 576 (v4) and over 1280 (v6)
    stats = reader.reassembly.stats
    assert stats["overlapping"] == stats["incomplete"] == stats["dropped"] == stats["cut"] == 0, stats

    # the command: the sender is heard (at both addresses), and the capture says its messages came in fragments
    hacf = tmp_path / "ha.cf"
    hacf.write_text("")
    proc = subprocess.run([sys.executable, "-m", "hadoctor", "probe", "listen", "--pcap", str(path), "--format",
                           "json", "--ha-cf", str(hacf)], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env=dict(os.environ, NO_COLOR="1"))
    doc = json.loads(proc.stdout)
    assert [s["node"] for s in doc["summary"]["senders"]] == ["node01", "node01"], proc.stdout + proc.stderr  # v4, v6
    whats = {v["what"] for v in doc["verdicts"]}
    assert "IP fragments reassembled" in whats and "IP fragments not reassembled" not in whats, doc["verdicts"]
