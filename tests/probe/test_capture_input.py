"""probe listen on a capture: what the capture says about itself (truncated by snaplen, heartbeat traffic on
another port, IP fragments) is said, with an exit code that does not claim all is well."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hadoctor.wire.codec import encode_classic, status_message
from tests.wire.pcapbuild import frame, ipv4_udp, pcap

ROOT = Path(__file__).resolve().parents[2]


def listen(path: Path, *args: str):
    env = dict(os.environ, NO_COLOR="1", COLUMNS="120")
    hacf = path.with_name("ha.cf")
    hacf.write_text("")  # no udpport: 694 is asked for
    proc = subprocess.run([sys.executable, "-m", "hadoctor", "probe", "listen", "--pcap", str(path), "--format",
                           "json", "--ha-cf", str(hacf), *args], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=60)
    return proc, (json.loads(proc.stdout) if proc.stdout.strip() else {})


def packets(port: int, n: int = 4):
    for seq in range(1, n + 1):
        payload = encode_classic(status_message("node01", seq=seq, hg=1, ts=seq))
        yield float(seq), frame(1, ipv4_udp("10.250.0.1", "10.250.0.255", port, port, payload))


def test_a_capture_cut_by_snaplen_is_an_error_that_says_how_to_recapture(tmp_path):
    cut = [(ts, data[:60]) for ts, data in packets(694)]  # tcpdump -s 60
    path = tmp_path / "cut.pcap"
    path.write_bytes(pcap(cut, snaplen=60))
    proc, doc = listen(path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    truncated = [v for v in doc["verdicts"] if v["what"] == "capture truncated"]
    assert truncated and "-s 0" in truncated[0]["detail"] and truncated[0]["level"] == "error"


def test_heartbeat_on_another_port_is_read_and_named(tmp_path):
    path = tmp_path / "other.pcap"
    path.write_bytes(pcap(list(packets(695))))
    proc, doc = listen(path)  # 694 asked (no udpport in ha.cf)
    assert [s["node"] for s in doc["summary"]["senders"]] == ["node01"], proc.stdout + proc.stderr
    other = [v for v in doc["verdicts"] if v["what"] == "heartbeat traffic on another port"]
    assert other and "UDP 695" in other[0]["detail"]
    assert not any(v["what"] == "nothing heard" for v in doc["verdicts"])


def test_ip_fragments_are_named_not_silently_dropped(tmp_path):
    payload = encode_classic(status_message("node01", seq=1, hg=1, ts=1))
    first = ipv4_udp("10.250.0.1", "10.250.0.255", 694, 694, payload, frag=0x2000)  # MF set
    path = tmp_path / "frag.pcap"
    path.write_bytes(pcap([(1.0, frame(1, first))]))
    proc, doc = listen(path)
    assert proc.returncode == 1
    assert any(v["what"] == "IP fragments not reassembled" for v in doc["verdicts"]), doc
