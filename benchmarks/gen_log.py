#!/usr/bin/env python3
"""Generate a realistic heartbeat 3.0.x log of a given size, deterministically from a seed.

The lines have the shapes the real daemon and its scripts write (docs/heartbeat/logs.md#line-layouts):
syslog-style daemon lines (``Nov 25 07:34:40 nodea heartbeat: [2129]: info: ...``),
resource-agent 4.x lines (``2026/11/25_07:36:14  ResourceManager(default)[6153]:    info: ...``),
status updates, lost packets, link dead/up, resource acquisition cycles, restarts,
and, at ``--failure-rate`` of the episodes, failures: late heartbeats, dispatch delays,
findif failures, split brain ("Both machines own our resources!"), authentication
failures with multi-line netstring dumps holding raw binary bytes, bad node messages.

The file is written in ~1 MiB batches (constant memory). Time advances about one
second per line from ``--start``, so a 1 GiB file spans a New Year.

    python benchmarks/gen_log.py benchmarks/out/ha-log-100M --size 100M --seed 1
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import datetime, timedelta
from typing import Callable, List

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
HOST, PEER, VIP = "nodea", "nodeb", "10.77.0.100"


def parse_size(text: str) -> int:
    """``100M``, ``1G``, ``512K`` (powers of 1024) or a plain byte count."""
    text = text.strip().upper().rstrip("B").rstrip("I")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    number = text[:-1] if scale != 1 else text
    return int(float(number) * scale)


class Writer:
    """Keeps the clock and the pids; formats lines in the daemon's and the scripts' layouts."""

    def __init__(self, rng: random.Random, start: datetime, host: str = HOST, peer: str = PEER) -> None:
        self.rng = rng
        self.now = start
        self.host, self.peer = host, peer
        self.master = rng.randrange(2000, 30000)
        self.next_pid = self.master + 10
        self.lines: List[str] = []

    def tick(self, low: float = 0.0, high: float = 2.0) -> None:
        self.now += timedelta(seconds=self.rng.uniform(low, high))

    def pid(self) -> int:
        self.next_pid += self.rng.randrange(1, 40)
        if self.next_pid > 4000000:
            self.next_pid = 300
        return self.next_pid

    def hb(self, level: str, msg: str, pid: int = 0) -> None:
        """A daemon line: syslogmsgfmt (3.0.x default), zero-padded day."""
        t = self.now
        self.lines.append(f"{MONTHS[t.month - 1]} {t.day:02d} {t.hour:02d}:{t.minute:02d}:{t.second:02d} "
                          f"{self.host} heartbeat: [{pid or self.master}]: {level}: {msg}\n")

    def ra(self, tag: str, level: str, msg: str) -> None:
        """A script line through ha_log, resource-agents 4.x (two spaces, four spaces)."""
        t = self.now
        self.lines.append(f"{t.year:04d}/{t.month:02d}/{t.day:02d}_{t.hour:02d}:{t.minute:02d}:{t.second:02d}  "
                          f"{tag}:    {level}: {msg}\n")

    def raw(self, text: str) -> None:
        self.lines.append(text)


# -- normal operation ------------------------------------------------------------------------

def status(w: Writer) -> None:
    w.hb("info", f"Status update for node {w.peer}: status {w.rng.choice(('active', 'up', 'active'))}")


def lost_packets(w: Writer) -> None:
    seq = w.rng.randrange(100, 900000)
    w.hb("WARN", f"1 lost packet(s) for [{w.peer}] [{seq}:{seq + 2}]")
    w.tick(0, 0.3)
    w.hb("info", f"No pkts missing from {w.peer}!")


def harc_status(w: Writer) -> None:
    w.ra(f"harc(default)[{w.pid()}]", "info", "Running /etc/ha.d//rc.d/status status")


def link_flap(w: Writer) -> None:
    w.hb("info", f"Link {w.peer}:eth1 dead.")
    w.tick(1, 5)
    w.hb("info", f"Link {w.peer}:eth1 up.")
    w.hb("info", f"Status update for node {w.peer}: status active")


def acquire(w: Writer) -> None:
    rm, ip_wrap, ip = w.pid(), w.pid(), w.pid()
    w.ra(f"harc(default)[{w.pid()}]", "info", "Running /etc/ha.d//rc.d/ip-request-resp ip-request-resp")
    w.ra(f"ResourceManager(default)[{rm}]", "info", f"Acquiring resource group: {w.host} {VIP}/24/eth1")
    w.ra(f"/usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_{VIP})[{w.pid()}]", "INFO", " Resource is stopped")
    w.ra(f"ResourceManager(default)[{rm}]", "info", f"Running /etc/ha.d//resource.d/IPaddr {VIP}/24/eth1 start")
    w.tick(0, 1)
    w.ra(f"IPaddr(IPaddr_{VIP})[{ip}]", "INFO", f"Using calculated netmask for {VIP}: 255.255.255.0")
    w.ra(f"IPaddr(IPaddr_{VIP})[{ip}]", "INFO", f"eval ifconfig eth1:0 {VIP} netmask 255.255.255.0 broadcast 10.77.0.255")
    w.ra(f"/usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_{VIP})[{ip_wrap}]", "INFO", " Success")
    w.hb("info", "Local Resource acquisition completed.", w.pid())
    w.hb("info", "local resource transition completed.")


def release(w: Writer) -> None:
    rm = w.pid()
    w.hb("info", f"Received shutdown notice from '{w.peer}'.")
    w.hb("info", f"Resources being acquired from {w.peer}.")
    w.ra(f"mach_down(default)[{w.pid()}]", "info", f"Taking over resource group {VIP}/24/eth1")
    w.ra(f"ResourceManager(default)[{rm}]", "info", f"Acquiring resource group: {w.peer} {VIP}/24/eth1")
    w.ra(f"ResourceManager(default)[{rm}]", "info", f"Running /etc/ha.d//resource.d/IPaddr {VIP}/24/eth1 start")
    w.ra(f"mach_down(default)[{w.pid()}]", "info", f"mach_down takeover complete for node {w.peer}.")
    w.hb("info", "mach_down takeover complete.")
    w.tick(5, 20)
    w.hb("WARN", f"node {w.peer}: is dead")
    w.hb("info", f"Dead node {w.peer} gave up resources.")
    w.hb("info", f"Link {w.peer}:eth1 dead.")


def restart(w: Writer) -> None:
    w.hb("info", "Heartbeat shutdown in progress. (%d)" % w.master)
    w.hb("info", "Giving up all HA resources.", w.pid())
    w.hb("info", "All HA resources relinquished.", w.pid())
    w.hb("info", f"{w.host} Heartbeat shutdown complete.")
    w.tick(2, 10)
    w.master = w.pid()
    w.hb("WARN", "Logging daemon is disabled --enabling logging daemon is recommended")
    w.hb("info", "**************************")
    w.hb("info", "Configuration validated. Starting heartbeat 3.0.6")
    w.master = w.pid()
    w.hb("info", "heartbeat: version 3.0.6")
    w.hb("info", f"Heartbeat generation: {w.rng.randrange(1700000000, 1800000000)}")
    w.hb("info", "glib: ucast: write socket priority set to IPTOS_LOWDELAY on eth1")
    w.hb("info", "glib: ucast: bound send socket to device: eth1")
    w.hb("info", "glib: ucast: started on port 694 interface eth1 to 10.77.0.2")
    w.hb("info", "Local status now set to: 'up'")
    w.tick(1, 3)
    w.hb("info", f"Link {w.peer}:eth1 up.")
    w.hb("info", f"Status update for node {w.peer}: status up")
    w.hb("info", "Comm_now_up(): updating status to active")
    w.hb("info", "Local status now set to: 'active'")


def ipfail(w: Writer) -> None:
    pid = w.pid()
    t = w.now
    stamp = f"{MONTHS[t.month - 1]} {t.day:02d} {t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    w.raw(f"{stamp} {w.host} ipfail: [{pid}]: info: Status update: Node {w.peer} now has status active\n")
    w.raw(f"{stamp} {w.host} ipfail: [{pid}]: info: Asking other side for ping node count.\n")


# -- failures (what the benchmark patterns look for) -----------------------------------------

def late_heartbeat(w: Writer) -> None:
    if w.rng.random() < 0.8:
        w.hb("WARN", f"Late heartbeat: Node {w.peer}: interval {w.rng.randrange(3000, 9000)} ms")
    else:
        w.hb("CRIT", f"Late heartbeat: Node {w.peer}: interval {w.rng.randrange(15000, 30000)} ms (> deadtime)")


def dispatch_delay(w: Writer) -> None:
    late = w.rng.randrange(600, 20000)
    src = w.rng.choice(("send local status", "check for signals", "update msgfree count", "client audit"))
    w.hb("WARN", f"Gmain_timeout_dispatch: Dispatch function for {src} was delayed {late} ms (> 510 ms) "
                 f"before being called (GSource: 0x{w.rng.randrange(1 << 40, 1 << 47):x})")
    base = w.rng.randrange(1700000000, 1800000000)
    w.hb("info", f"Gmain_timeout_dispatch: started at {base + late // 10} should have started at {base}")


def findif_failed(w: Writer) -> None:
    rm, ip_wrap, ip = w.pid(), w.pid(), w.pid()
    w.ra(f"ResourceManager(default)[{rm}]", "info", f"Acquiring resource group: {w.host} 192.0.2.50")
    w.ra(f"IPaddr(IPaddr_192.0.2.50)[{ip}]", "ERROR", "/usr/libexec/heartbeat/findif failed [rc=1].")
    w.ra(f"/usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_192.0.2.50)[{ip_wrap}]", "ERROR", " Generic error")
    w.ra(f"ResourceManager(default)[{rm}]", "ERROR", "Return code 1 from /etc/ha.d/resource.d/IPaddr")
    w.ra(f"ResourceManager(default)[{rm}]", "CRIT", "Giving up resources due to failure of 192.0.2.50")


def split_brain(w: Writer) -> None:
    w.hb("CRIT", f"Cluster node {w.peer} returning after partition.")
    w.hb("info", "For information on cluster partitions, See URL: http://linux-ha.org/wiki/Split_Brain")
    w.hb("WARN", "Deadtime value may be too small.")
    w.hb("info", "See FAQ for information on tuning deadtime.")
    w.hb("info", "URL: http://linux-ha.org/wiki/FAQ#Heavy_Load")
    w.hb("CRIT", f"Late heartbeat: Node {w.peer}: interval 15020 ms (> deadtime)")
    w.hb("ERROR", "Both machines own our resources!")
    w.hb("ERROR", "Both machines own foreign resources!")


def _netstring_packet(w: Writer) -> str:
    uuid = bytes(w.rng.randrange(256) for _ in range(16)).decode("latin-1")  # raw bytes, may hold \n
    fields = [("t", "status"), ("st", "active"), ("dt", "1770"), ("protocol", "1"), ("src", "nodec")]
    body = ",".join(f"{len(f'(0){k}={v}')}:(0){k}={v}" for k, v in fields)
    body += f",27:(1)srcuuid={uuid},8:(0)seq={w.rng.randrange(1, 1 << 20):x},"
    return "###\n" + body + "%%%\n" + f"42:1 {w.rng.getrandbits(160):040x},"


def auth_failure(w: Writer) -> None:
    if w.rng.random() < 0.5:
        w.hb("WARN", "Invalid authentication type [7] in message!")
        w.hb("WARN", "string2msg_ll: node [nodec] failed authentication")
        return
    w.hb("WARN", "Invalid authentication [7] in message!")
    w.hb("ERROR", "netstring authentication failed, s=" + _netstring_packet(w))
    w.hb("ERROR", "MSG: Dumping message with 6 fields")
    for i, field in enumerate(("t=status", "st=active", "dt=1770", "protocol=1", "src=nodec", "seq=2")):
        w.hb("ERROR", f"MSG[{i}] : [{field}]")


def bad_node(w: Writer) -> None:
    w.hb("ERROR", "process_status_message: bad node [nodec] in message")
    w.hb("ERROR", "MSG: Dumping message with 3 fields")
    for i, field in enumerate(("t=status", "st=active", "src=nodec")):
        w.hb("ERROR", f"MSG[{i}] : [{field}]")


# A healthy heartbeat logs little: script and ipfail chatter make the bulk of a big log; status updates
# (only on a change), lost packets (only on a gap) and membership changes (restarts, takeovers, link
# flaps) are events, a few per hour, not a line in five.
NORMAL: List[Callable[[Writer], None]] = [harc_status] * 30 + [ipfail] * 12
MEMBERSHIP: List[Callable[[Writer], None]] = [status] * 4 + [lost_packets] * 4 + [link_flap] * 2 + [acquire] * 3 + \
    [release] + [restart]
MEMBERSHIP_RATE = 0.01
FAILURES: List[Callable[[Writer], None]] = [late_heartbeat] * 6 + [dispatch_delay] * 6 + [findif_failed] + \
    [split_brain] + [auth_failure] * 2 + [bad_node]


def generate(out, size: int, seed: int, failure_rate: float, start: datetime, lines: int = 0,
             host: str = HOST, peer: str = PEER) -> int:
    """Write at least ``size`` bytes, or with ``lines`` at least that many lines (whole batches of about
    8000 lines), to the binary stream ``out`` as ``host`` whose peer is ``peer``; return the bytes written."""
    rng = random.Random(seed)
    w = Writer(rng, start, host, peer)
    written = count = 0
    while (count < lines) if lines else (written < size):
        while len(w.lines) < 8000:
            draw = rng.random()
            if draw < failure_rate:
                episode = rng.choice(FAILURES)
            elif draw < failure_rate + MEMBERSHIP_RATE:
                episode = rng.choice(MEMBERSHIP)
            else:
                episode = rng.choice(NORMAL)
            episode(w)
            w.tick()
        data = "".join(w.lines).encode("latin-1")
        w.lines.clear()
        out.write(data)
        written += len(data)
        count += data.count(b"\n")
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("output", help="file to write ('-' for stdout)")
    ap.add_argument("--size", default="100M", help="target size: 100M, 1G, 512K or bytes (default 100M)")
    ap.add_argument("--lines", type=int, default=0, help="target number of lines instead of a size")
    ap.add_argument("--host", default=HOST, help=f"the node writing the log (default {HOST})")
    ap.add_argument("--peer", default=PEER, help=f"its peer (default {PEER})")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--failure-rate", type=float, default=0.01,
                    help="fraction of episodes that are failures (default 0.01)")
    ap.add_argument("--start", default="2025-10-01T00:00:00", help="timestamp of the first line")
    args = ap.parse_args(argv)
    start = datetime.fromisoformat(args.start)
    if args.output == "-":
        generate(sys.stdout.buffer, parse_size(args.size), args.seed, args.failure_rate, start, args.lines,
                 args.host, args.peer)
    else:
        with open(args.output, "wb") as out:
            generate(out, parse_size(args.size), args.seed, args.failure_rate, start, args.lines, args.host,
                     args.peer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
