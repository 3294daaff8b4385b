"""Real heartbeat daemons whose every message is bigger than the path MTU: the nodes' eth0 have a 128-byte
MTU (IPv4 allows 68), so each signed keepalive leaves the kernel as IP fragments; heartbeat still forms the
cluster (the receiving kernel reassembles). tcpdump on the switch's bridge records the fragments as they
travel; ``probe listen --pcap`` must put them together, verify them with the nodes' authkeys and hear both
nodes at their keepalive, and say the messages came in fragments.

Its own small lab (prefix ``hbl-p<pid>-fr``, 10.250.114.0/24), torn down whatever happens.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from hadoctor.wire.pcap import PcapReader

from .conftest import LAB_OK, LAB_WHY, SESSION_PREFIX
from .hblab import Lab, run

pytestmark = [pytest.mark.lab, pytest.mark.skipif(not LAB_OK, reason=LAB_WHY or "lab")]


def test_heartbeat_messages_in_fragments_are_reassembled_from_a_capture(tmp_path):
    with Lab(f"{SESSION_PREFIX}fr", subnet="10.250.114", second_nic=False) as lab:
        for node in lab.nodes:
            run(["ip", "-n", lab.ns(node), "link", "set", "eth0", "mtu", "128"], check=True)
        lab.configure()
        lab.start_all()
        assert lab.wait_holders(["node01"], 60) is not None  # the cluster works over fragments
        path = tmp_path / "fragments.pcap"
        # no port filter: a fragment after the first carries no UDP header ("udp port 694" misses it)
        dump = subprocess.Popen(["ip", "netns", "exec", lab.switch_ns, "tcpdump", "-i", "br0", "--immediate-mode",
                                 "-nn", "-s", "0", "-U", "-Z", "root", "-w", str(path), "ip"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            said = b""
            while b"listening on" not in said:
                line = dump.stderr.readline()
                assert line, said
                said += line
            time.sleep(5)
        finally:
            dump.send_signal(signal.SIGINT)
            dump.wait(timeout=30)
        log = lab.log("node02")
        conf = tmp_path / "ha.d"  # the lab's folders go with it
        conf.mkdir()
        for name in ("ha.cf", "authkeys"):
            (conf / name).write_bytes((lab.node_dir("node02") / "ha.d" / name).read_bytes())

    reader = PcapReader(str(path))
    packets = [p for p in reader if 694 in (p.sport, p.dport)]
    assert packets and all(p.reassembled and not p.truncated for p in packets), reader.stats
    assert reader.stats["fragments"] >= 2 * len(packets)
    assert reader.reassembly.stats["overlapping"] == reader.reassembly.stats["dropped"] == 0, reader.reassembly.stats

    proc = subprocess.run([sys.executable, "-m", "hadoctor", "probe", "listen", "--pcap", str(path),
                           "--ha-cf", str(conf / "ha.cf"), "--authkeys", str(conf / "authkeys"), "--format", "json"],
                          capture_output=True, text=True, timeout=60)
    doc = json.loads(proc.stdout)
    heard = {s["node"]: s for s in doc["summary"]["senders"]}
    assert set(heard) == {"node01", "node02"}, proc.stdout[-3000:] + proc.stderr
    for node, s in heard.items():
        assert set(s["auth_results"]) == {"ok"}, (node, s["auth_results"])
        assert s["packets"] >= 3
    whats = {v["what"] for v in doc["verdicts"]}
    assert "IP fragments reassembled" in whats and "IP fragments not reassembled" not in whats, doc["verdicts"]
    assert "is dead" not in log
