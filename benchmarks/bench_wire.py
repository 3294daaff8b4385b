#!/usr/bin/env python3
"""Benchmark the wire code: pcap reading, decode, decode+verify, and the per-sender summary.

Builds (once, cached) a large classic pcap under ``benchmarks/out/`` by repeating the real
heartbeat 3.0.6 packets captured in the lab (tests/fixtures/lab/{healthy,foreign-cluster,
authkeys-mismatch}/heartbeat.pcap) with fresh timestamps, then measures, best of ``--repeat``:

- ``read``: PcapReader alone (UDP datagrams out),
- ``decode``: read + decode every payload,
- ``decode+verify``: read + decode + verify against node01's authkeys (both views),
- ``summary``: read + decode + verify + Summarizer (what ``probe listen --pcap`` will do).

    python benchmarks/bench_wire.py                      # 200,000 packets
    python benchmarks/bench_wire.py --packets 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

from hadoctor.parsers.authkeys import parse_authkeys  # noqa: E402
from hadoctor.wire.auth import verify  # noqa: E402
from hadoctor.wire.codec import decode  # noqa: E402
from hadoctor.wire.pcap import PcapReader  # noqa: E402
from hadoctor.wire.summary import Summarizer  # noqa: E402

LAB = os.path.join(REPO, "tests", "fixtures", "lab")
SCENARIOS = ("healthy", "foreign-cluster", "authkeys-mismatch")


def _frame(src: str, sport: int, dst: str, dport: int, payload: bytes) -> bytes:
    udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst)) + udp
    return b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + ip


def build(path: str, count: int) -> None:
    captured = [p for s in SCENARIOS for p in PcapReader(os.path.join(LAB, s, "heartbeat.pcap"))]
    frames = [_frame(p.src, p.sport, p.dst, p.dport, p.payload) for p in captured]
    with open(path + ".tmp", "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i in range(count):
            data = frames[i % len(frames)]
            ts = 1_800_000_000 + i // 2  # two packets per second, like a two-node cluster at keepalive 1
            out.write(struct.pack("<IIII", ts, (i % 2) * 500_000, len(data), len(data)))
            out.write(data)
    os.replace(path + ".tmp", path)


def run(mode: str, path: str, keys) -> int:
    n = 0
    if mode == "read":
        for _ in PcapReader(path):
            n += 1
    elif mode == "decode":
        for p in PcapReader(path):
            decode(p.payload)
            n += 1
    elif mode == "decode+verify":
        for p in PcapReader(path):
            verify(decode(p.payload), keys)
            n += 1
    elif mode == "summary":
        summarizer = Summarizer(keys, ["node01", "node02"])
        for p in PcapReader(path):
            summarizer.add_packet(p)
            n += 1
        summarizer.result()
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--modes", default="read,decode,decode+verify,summary")
    args = parser.parse_args()
    out = os.path.join(HERE, "out")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, f"wire-{args.packets}.pcap")
    if not os.path.exists(path):
        build(path, args.packets)
    keypath = os.path.join(LAB, "healthy", "node01", "authkeys")
    with open(keypath, "rb") as handle:
        keys = parse_authkeys(handle.read(), keypath)
    size = os.path.getsize(path)
    print(f"{path}: {args.packets} packets, {size / 2**20:.1f} MiB; Python {sys.version.split()[0]}")
    print(f"{'mode':<15} {'seconds':>8} {'packets/s':>11} {'us/packet':>10}")
    for mode in args.modes.split(","):
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            n = run(mode, path, keys)
            best = min(best, time.perf_counter() - started)
        assert n == args.packets, (mode, n)
        print(f"{mode:<15} {best:8.2f} {n / best:11,.0f} {best / n * 1e6:10.1f}")


if __name__ == "__main__":
    main()
