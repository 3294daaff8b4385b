"""hadoctor's wire encoder against the real daemon (heartbeat 3.0.6 on Debian's glue).

A healthy 2-node lab (bcast eth0 + ucast eth1, udpport 694). From node02's namespace we send
STATUS-shaped messages to node01's eth0 address, UDP 694, under UNKNOWN node names
(``hdprobe9…``, never a real node's), in both encodings, signed with the lab key:

* for each of ``1 md5 …``, ``1 crc`` and ``1 sha1 …`` (authkeys rewritten on both nodes and
  reloaded with ``heartbeat -r``), node01 logs ``bad node [hdprobe9…] in message``: our
  authenticator was accepted and the packet was rejected for its name only; never
  ``failed authentication`` / ``authtoken does not match`` for it;
* with a WRONG key the daemon logs the auth failure (``node [..] failed authentication``
  classic, ``authtoken does not match`` netstring) and hadoctor's ``verify()`` of the same bytes
  against the lab authkeys says ``wrong-key`` (and its peer view: not accepted): same verdict.

Only one key index is configured, so "netstring verifies only with the receiver's ACTIVE key"
(docs/heartbeat/wire.md#which-key-verifies) does not split the two encodings here. Also:
``probe exchange --port 694`` refuses to run in a namespace where heartbeat holds the port.
Own lab ``hbl-p<pid>-wi``, 10.250.53.0/24.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from hadoctor.parsers.authkeys import parse_authkeys
from hadoctor.probe.netns import run_in_netns
from hadoctor.wire import (
    decode,
    encode_classic,
    encode_netstring,
    status_message,
    verify,
)

from .conftest import LAB_OK, LAB_WHY, SESSION_PREFIX
from .hblab import HB, Lab, authkeys_text

pytestmark = [pytest.mark.lab, pytest.mark.skipif(not LAB_OK, reason=LAB_WHY or "lab")]

KEY = "lab-fixture-key-not-secret"
METHODS = (("sha1", f"1 sha1 {KEY}"), ("md5", f"1 md5 {KEY}"), ("crc", "1 crc"))
ENCODINGS = (("c", encode_classic), ("n", encode_netstring))
AUTH_FAIL = ("failed authentication", "authtoken does not match")


def _packet(name: str, encoder, signer, seq: int) -> bytes:
    m = status_message(name, seq=seq, hg=1, ts=int(time.time()), dt=30000, ttl=3)
    return encoder(m, signer)


def _reload_keys(lab: Lab, key_line: str) -> None:
    before = {n: lab.log_bytes(n).count(b"Rereading authentication file.") for n in lab.nodes}
    for n in lab.nodes:
        p = lab.node_dir(n) / "ha.d" / "authkeys"
        old = p.stat().st_mtime
        lab.write_config(n, authkeys=authkeys_text(key_line))
        # heartbeat notices mtime changes at 1 s granularity (docs/heartbeat/authkeys.md#reloading)
        os.utime(p, (old + 2, old + 2))
    for n in lab.nodes:
        cp = lab.exec(n, HB, "-r", timeout=30)
        assert cp.returncode == 0, cp.stderr
    for n in lab.nodes:
        assert lab.wait_log(n, "Rereading authentication file.", 10, count=before[n] + 1) is not None
    time.sleep(1.5)  # let the real keepalives signed with the old key drain


def test_daemon_accepts_hadoctor_signatures_and_rejects_a_wrong_key():
    t0 = time.monotonic()
    with Lab(f"{SESSION_PREFIX}wi", subnet="10.250.53") as lab:
        lab.configure()
        assert lab.start_all() == {"node01": 0, "node02": 0}
        assert lab.wait_log("node01", "Link node02:eth0 up", 30) is not None, lab.log("node01")[-3000:]
        target = (lab.ip("node01"), 694)
        sock = run_in_netns(lab.ns("node02"), lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))

        # the probe refuses heartbeat's port where heartbeat holds it (it would share/steal the socket)
        cp = subprocess.run([sys.executable, "-m", "hadoctor", "probe", "exchange", "--netns", lab.ns("node01"),
                             "--peer", lab.ip("node02"), "--port", "694", "--seconds", "1"],
                            capture_output=True, text=True, timeout=30)
        assert cp.returncode == 2 and "held" in cp.stderr and "probe listen" in cp.stderr, cp.stderr

        with sock:
            for method, key_line in METHODS:
                if method != "sha1":
                    _reload_keys(lab, key_line)
                ours = parse_authkeys(authkeys_text(key_line).encode(), "authkeys")
                start = len(lab.log_bytes("node01"))
                for enc, encoder in ENCODINGS:
                    name = f"hdprobe9{method[0]}{enc}"
                    for seq in (1, 2):
                        data = _packet(name, encoder, ours, seq)
                        v = verify(decode(data), ours)
                        assert v.ok and v.peer is not None and v.peer.accepts, (method, enc, v)
                        sock.sendto(data, target)
                    assert lab.wait_log("node01", f"bad node [{name}] in message", 10) is not None, \
                        (method, enc, lab.log_bytes("node01")[start:].decode("latin-1")[-3000:])
                during = lab.log_bytes("node01")[start:].decode("latin-1")
                for text in AUTH_FAIL:
                    assert text not in during, (method, during[-3000:])

            # a wrong key: the daemon and verify() agree
            wrong = (1, "sha1", "not-the-lab-key")
            lab_sha1 = parse_authkeys(authkeys_text(METHODS[0][1]).encode(), "authkeys")
            _reload_keys(lab, METHODS[0][1])
            for enc, encoder, log_text in (("c", encode_classic, "node [hdprobe9wc] failed authentication"),
                                           ("n", encode_netstring, "authtoken does not match")):
                start = len(lab.log_bytes("node01"))
                name = f"hdprobe9w{enc}"
                data = _packet(name, encoder, wrong, 1)
                v = verify(decode(data), lab_sha1)
                assert v.result == "wrong-key" and v.peer is not None and not v.peer.accepts, v
                seen = lab.log_bytes("node01").count(log_text.encode())
                sock.sendto(data, target)
                assert lab.wait_log("node01", log_text, 10, count=seen + 1) is not None, \
                    lab.log_bytes("node01")[start:].decode("latin-1")[-3000:]
                time.sleep(0.3)
                after = lab.log_bytes("node01")[start:].decode("latin-1")
                if enc == "n":  # the daemon names our trailer's token
                    assert f"authtoken={decode(data).trailer.token}" in after, after[-3000:]
                assert f"bad node [{name}]" not in after
    print(f"interop test {time.monotonic() - t0:.1f} s")
