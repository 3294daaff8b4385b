"""Support bundles without the lab: create from a --root tree (the real collection scripts run in a real
sh), redaction, manifest, trimming, an unreachable node over the real ssh client, safe reading of
malicious archives, verify's exit codes, obfuscation consistency and verdicts."""

from __future__ import annotations

import gzip
import io
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from hadoctor.bundle import redact
from hadoctor.bundle.archive import RATIO_FLOOR
from hadoctor.bundle.obfuscate import Obfuscator, obfuscate_tree
from hadoctor.engine import discovery
from hadoctor.engine.runner import run as run_rules
from hadoctor.snapshot.loader import load_target

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "lab"
HADOCTOR = [sys.executable, "-m", "hadoctor"]
KEY = "Planted-Authkeys-Key-7f3a91"
STONITH_PW = "Planted-Stonith-Pw-55e2"
AMI_SECRET = "Planted-AMI-Secret-0c4d"
SIP_SECRET = "Planted-Sip-Secret-9b1e"
LOG_PW = "Planted-Log-Pw-3a3a"
SECRETS = (KEY, STONITH_PW, AMI_SECRET, SIP_SECRET, LOG_PW)
#: when the lab fixtures' logs were written (local time), and a --since that keeps all of them
CAPTURED = time.mktime((2026, 11, 25, 9, 20, 0, 0, 0, -1))
SINCE = ("--since", "2026-11-25 00:00")


def hd(*args, cwd=None, timeout=120):
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    return subprocess.run(HADOCTOR + [str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=timeout)


def assert_clean_error(proc, *words):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("hadoctor: error:"), proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr


def members(path: Path) -> dict:
    """{name: bytes}, nested .gz/.bz2 members decompressed too (as 'name (decompressed)')."""
    out = {}
    with tarfile.open(path, "r:gz") as tar:
        for m in tar.getmembers():
            assert m.isreg() or m.isdir(), m.name
            if m.isreg():
                data = tar.extractfile(m).read()
                out[m.name] = data
                if m.name.endswith(".gz"):
                    out[m.name + " (decompressed)"] = gzip.decompress(data)
    return out


def make_root(tmp_path: Path, fixture: str = "healthy", node: str = "node01") -> Path:
    """A node's /etc/ha.d, /var/log and /etc/asterisk below a folder, from a real lab capture, with planted
    secrets: an authkeys key, a stonith_host password, AMI and SIP secrets, a password in a log line."""
    src = FIXTURES / fixture / node
    root = tmp_path / "root"
    (root / "etc/ha.d").mkdir(parents=True)
    (root / "var/log").mkdir(parents=True)
    (root / "etc/asterisk").mkdir(parents=True)
    for f in ("ha.cf", "haresources"):
        shutil.copy(src / f, root / "etc/ha.d" / f)
    with open(root / "etc/ha.d/ha.cf", "a") as f:
        f.write(f"stonith_host * external/ipmi node02 10.250.1.250 admin {STONITH_PW} lan\n")
    (root / "etc/ha.d/authkeys").write_text(f"auth 1\n1 sha1 {KEY}\n")
    os.chmod(root / "etc/ha.d/authkeys", 0o640)
    (root / "etc/ha.d/nodeinfo").write_text(f"{node}\n")
    (root / "etc/asterisk/manager.conf").write_text(f"[general]\nenabled = yes\n[admin]\nsecret = {AMI_SECRET}\n")
    (root / "etc/asterisk/sip.conf").write_text(f"[general]\nbindaddr=10.250.1.100\n[100]\nsecret={SIP_SECRET} ; x\n")
    (root / "etc/hosts").write_text("127.0.0.1 localhost\n10.250.1.11 node01\n10.250.1.12 node02\n")
    log = (src / "heartbeat.log").read_bytes() + f"Nov 25 09:19:40 node01 app: login password={LOG_PW}\n".encode()
    (root / "var/log/heartbeat.log").write_bytes(log)
    # the capture's own moment, not the fixture's (a checkout's) mtime: year inference and the time
    # window must not depend on the day the tests run
    os.utime(root / "var/log/heartbeat.log", (CAPTURED, CAPTURED))
    return root


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bundle")
    root = make_root(tmp)
    out = tmp / "b.tar.gz"
    t0 = time.monotonic()
    proc = hd("bundle", "create", "--root", root, "--node", "node01", "-o", out, *SINCE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)             # the path alone on stdout, progress on stderr
    assert "node01" in proc.stderr
    return out, root, time.monotonic() - t0


# ------------------------------------------------------------------ redaction

def test_mask_functions():
    out, found = redact.mask_hacf(b"stonith_host node02 external/ssh node02\nstonith_host * rps10 /dev/ttyS0 x pw\n")
    assert out == b"stonith_host node02 external/ssh ****\nstonith_host * rps10 **** **** ****\n"
    assert found == {"node02", "/dev/ttyS0", "x", "pw"}
    conf, found = redact.mask_conf(b"[a]\nmd5secret => abc123\nusername = bob\ndb_pass=xyz ;c\nsecret=****\n")
    assert conf == b"[a]\nmd5secret => ****\nusername = bob\ndb_pass=**** ;c\nsecret=****\n"
    assert found == {"abc123", "xyz"}
    text, found = redact.mask_text(b'passwd: "s e c"\nPassword=hunter22, next\nno secrets here\n')
    assert text == b'passwd: "****"\nPassword=****, next\nno secrets here\n'
    assert found == {"s e c", "hunter22"}
    assert redact.scrub(b"a hunter22 b hunter22", [b"hunter22", b"ab"]) == (b"a **** b ****", 2)


def test_no_planted_secret_in_any_byte_of_any_member(bundle):
    path, _root, _ = bundle
    everything = members(path)
    assert any(n.endswith("/heartbeat.log") for n in everything)
    for name, data in everything.items():
        for secret in SECRETS:
            assert secret.encode() not in data, f"{secret} leaked in {name}"
    hacf = next(d for n, d in everything.items() if n.endswith("node01/ha.cf"))
    assert b"stonith_host * external/ipmi **** **** **** **** ****" in hacf
    sip = next(d for n, d in everything.items() if n.endswith("services/sip.conf"))
    assert b"bindaddr=10.250.1.100" in sip and b"secret=**** ; x" in sip


def test_authkeys_metadata_only_and_rules_still_work(bundle):
    path, _root, _ = bundle
    everything = members(path)
    assert not any(n.endswith("/authkeys") for n in everything)
    meta = json.loads(next(d for n, d in everything.items() if n.endswith("node01/authkeys.json")))
    assert meta["mode"] == "0640" and meta["active_index"] == 1
    assert meta["keys"][0]["method"] == "sha1" and meta["keys"][0]["fingerprint"].startswith("hmac-sha256:")
    assert "salt" not in json.dumps(meta).replace("fingerprint_salt", "")   # described, never stored
    report = run_rules(load_target(str(path)), discovery.all_rules())
    codes = {f.code for f in report.findings if f.status == "fail"}
    assert "SEC001" in codes                      # mode 0640 seen through the metadata
    passed = {f.code for f in report.findings if f.status == "pass"}
    assert "SEC002" in passed


def test_verify_finds_nothing_in_a_fresh_bundle_and_exit_0(bundle, tmp_path):
    path, _root, _ = bundle
    secrets = tmp_path / "secrets"
    secrets.write_text("# planted\n" + "\n".join(SECRETS) + "\n")
    proc = hd("bundle", "verify", path, "--secrets-file", secrets, "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["clean"] and doc["members"] > 10 and doc["bytes_scanned"] > 5000


# ------------------------------------------------------------------ manifest, trimming, check

def test_manifest_records_every_item(bundle):
    path, _root, elapsed = bundle
    manifest = json.loads(next(d for n, d in members(path).items() if n.endswith("/manifest.json")))
    assert manifest["format"] == "hadoctor-bundle/1"
    from hadoctor import __version__
    assert manifest["hadoctor_version"] == __version__
    assert manifest["created"].endswith("+00:00")
    node = manifest["nodes"]["node01"]
    assert node["status"] == "ok" and node["where"] == "local"
    items = {i["name"]: i for i in node["items"]}
    assert items["ip a"]["status"] == "ok" and items["ip a"]["rc"] == 0 and items["ip a"]["duration_s"] >= 0
    assert items["ip a"]["command"] == "ip a"
    assert items["logd.cf"]["status"] == "missing" and "no such file" in items["logd.cf"]["error"]
    assert items["authkeys"]["file"] == "authkeys.json"
    assert items["services/iax.conf"]["status"] == "missing"
    logs = {e["source"]: e for e in node["logs"]}
    assert logs["/var/log/heartbeat.log"]["member"] == "heartbeat.log"
    assert logs["/var/log/heartbeat.log"]["why"] == "ha.cf logfile"
    assert logs["/var/log/messages"]["status"] == "missing"       # logfacility local0: syslog files tried
    assert "offset_s" in node["clock"]
    assert manifest["collection_s"] < elapsed


def test_trim_to_window_and_rotated_siblings(tmp_path):
    root = make_root(tmp_path)
    logdir = root / "var/log"
    lines = [f"Nov {d:02d} 10:00:00 node01 heartbeat: [1]: info: day {d}\n" for d in range(20, 26)]
    (logdir / "heartbeat.log").write_text("".join(lines[3:]) + "   a continuation line of day 25\n")
    (logdir / "heartbeat.log.1").write_text("".join(lines[1:3]))
    with gzip.open(logdir / "heartbeat.log.2.gz", "wt") as f:
        f.write(lines[0])
    stamp = lambda d: time.mktime((2026, 11, d, 12, 0, 0, 0, 0, -1))
    os.utime(logdir / "heartbeat.log.2.gz", (stamp(20), stamp(20)))
    os.utime(logdir / "heartbeat.log.1", (stamp(22), stamp(22)))
    os.utime(logdir / "heartbeat.log", (stamp(25), stamp(25)))
    out = tmp_path / "t.tar.gz"
    proc = hd("bundle", "create", "-q", "--root", root, "--node", "node01", "-o", out,
              "--since", "2026-11-22 00:00", "--until", "2026-11-24 12:00")
    assert proc.returncode == 0, proc.stderr
    everything = members(out)
    log = next(d for n, d in everything.items() if n.endswith("node01/heartbeat.log"))
    assert log == (lines[3] + lines[4]).encode()
    rotated = next(d for n, d in everything.items() if n.endswith("node01/heartbeat.log.1"))
    assert rotated == lines[2].encode()
    assert not any(n.endswith("heartbeat.log.2.gz") for n in everything)
    manifest = json.loads(next(d for n, d in everything.items() if n.endswith("manifest.json")))
    logs = {e["source"]: e for e in manifest["nodes"]["node01"]["logs"]}
    assert logs["/var/log/heartbeat.log.2.gz"]["status"] == "outside window"
    assert logs["/var/log/heartbeat.log"]["status"] == "trimmed"
    assert logs["/var/log/heartbeat.log"]["lines_kept"] == 2
    # continuation lines travel with their record
    proc = hd("bundle", "create", "-q", "--root", root, "--node", "node01", "-o", tmp_path / "t2.tar.gz",
              "--since", "2026-11-25 00:00")
    log = next(d for n, d in members(tmp_path / "t2.tar.gz").items() if n.endswith("node01/heartbeat.log"))
    assert log.endswith(lines[5].encode() + b"   a continuation line of day 25\n")


FOREIGN_WORDS = ("Planted-Sshd-Word-1c1c", "Planted-Cron-Word-77c1", "Planted-Mail-Word-4b4b", "usb 1-1")


def _syslog_lines(corpus_dir: Path):
    """(line, kept) of a shared /var/log/syslog: corpus 017 (heartbeat, harc, ResourceManager, IPaddr,
    ipfail; syslog style), with an authentication-failure record and its continuation line, a resource.d
    script of the node's own, cluster kernel lines, and other programs' lines in between."""
    corpus = (corpus_dir / "logs" / "017-linuxzen-slave-join-syslog-style.log").read_text().splitlines(keepends=True)
    foreign = [(f"Feb 19 13:50:23 slave sshd[4001]: Accepted password for alice from 203.0.113.9 "
                f"{FOREIGN_WORDS[0]}\n"),
               (f"Feb 19 13:50:24 slave CRON[4002]: (root) CMD (backup --key {FOREIGN_WORDS[1]})\n"
                "Feb 19 13:50:24 slave last message repeated 2 times\n"),     # after a foreign line: dropped
               f"Feb 19 13:50:26 slave postfix/smtpd[4003]: to=<ceo@example.com> {FOREIGN_WORDS[2]}\n",
               "Feb 19 13:50:27 slave kernel: [ 98.1] usb 1-1: new high-speed USB device number 2\n"]
    out = []
    for i, line in enumerate(corpus):
        out.append((line, True))
        if i % 3 == 2:
            out += [(f + "\n", False) for f in foreign[(i // 3) % len(foreign)].splitlines()]
    out[5:5] = [("Feb 19 13:50:23 slave heartbeat: [29159]: ERROR: netstring authentication failed, s=###\n", True),
                ("11:(0)t=status,8:(0)st=up,10:(0)dt=1f40,%%%\n", True),        # its continuation line
                ("Feb 19 13:50:23 slave last message repeated 3 times\n", True),  # goes with the record before
                ("Feb 19 13:50:23 slave kernel: e1000e: eth0 NIC Link is Down\n", True),
                ("Feb 19 13:50:23 slave kernel: bonding: bond0: link status definitely down for interface eth0\n",
                 True),
                ("Feb 19 13:50:23 slave mydrbd[29170]: info: promoted r0\n", True)]   # /etc/ha.d/resource.d/mydrbd
    return out


def test_syslog_files_keep_only_the_cluster_records(tmp_path, corpus):
    """With logfacility and no logfile, heartbeat logs into the shared syslog files: the bundle keeps
    heartbeat's and its helpers' records (continuation lines included), not the other programs'."""
    root = make_root(tmp_path)
    hacf = root / "etc/ha.d/ha.cf"
    hacf.write_text(hacf.read_text().replace("logfile /var/log/heartbeat.log\n", ""))
    (root / "var/log/heartbeat.log").unlink()
    (root / "etc/ha.d/resource.d").mkdir()
    (root / "etc/ha.d/resource.d/mydrbd").write_text("#!/bin/sh\n")
    lines = _syslog_lines(corpus)
    syslog = root / "var/log/syslog"
    syslog.write_text("".join(line for line, _ in lines))
    stamp = time.mktime((2026, 2, 20, 0, 0, 0, 0, 0, -1))
    os.utime(syslog, (stamp, stamp))
    out = tmp_path / "s.tar.gz"
    proc = hd("bundle", "create", "-q", "--root", root, "--node", "node01", "-o", out, "--since", "2026-01-01")
    assert proc.returncode == 0, proc.stderr
    everything = members(out)
    log = next(d for n, d in everything.items() if n.endswith("node01/syslog"))
    assert log.decode() == "".join(line for line, kept in lines if kept)
    for name, data in everything.items():
        for word in FOREIGN_WORDS + ("sshd", "CRON", "postfix"):
            assert word.encode() not in data, f"{word} in {name}"
    manifest = json.loads(next(d for n, d in everything.items() if n.endswith("manifest.json")))
    entry = {e["source"]: e for e in manifest["nodes"]["node01"]["logs"]}["/var/log/syslog"]
    assert entry["why"] == "syslog (facility local0)" and entry["filter"] == "cluster records"
    assert entry["lines_read"] == len(lines)
    assert entry["lines_kept"] == sum(kept for _, kept in lines)
    assert entry["lines_filtered"] == sum(not kept for _, kept in lines) > 10
    assert entry["status"] == "trimmed"
    # check diagnoses from the filtered bundle what it diagnoses from the whole syslog file
    folder = tmp_path / "whole" / "node01"
    folder.mkdir(parents=True)
    shutil.copy(root / "etc/ha.d/ha.cf", folder / "ha.cf")
    shutil.copy(root / "etc/ha.d/haresources", folder / "haresources")
    shutil.copy2(syslog, folder / "syslog")
    rules = [r for r in discovery.all_rules() if r.code.startswith("LOG")]
    verdict = lambda rep: sorted((f.code, f.status, f.message) for f in rep.findings if f.status == "fail")
    from_bundle = verdict(run_rules(load_target(str(out)), rules))
    assert any(code == "LOG033" for code, _, _ in from_bundle), from_bundle     # 1 lost packet from master.org
    assert from_bundle == verdict(run_rules(load_target(str(folder.parent)), rules))


def test_trim_log_filter_edges(tmp_path):
    """trim_log with the record filter: untagged lines at the start, a gzip'd rotated file, counts."""
    from datetime import datetime

    from hadoctor.bundle.logs import trim_log
    from hadoctor.parsers.hblog import is_cluster_record

    src = tmp_path / "messages.1.gz"
    text = ("-- an untagged line before any record --\n"
            "Nov 24 10:00:00 n1 sudo:   bob : TTY=pts/0 ; COMMAND=/bin/cat /etc/shadow\n"
            "Nov 25 10:00:00 n1 heartbeat: [7]: WARN: node n2: is dead\n"
            "Nov 25 10:00:01 n1 /usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_10.0.0.5)[9]: INFO:  Success\n"
            "Nov 25 10:00:02 n1 su[3]: pam_unix(su:session): session opened for user root\n"
            "   a continuation of su's line\n"
            "Nov 25 10:00:03 n1 kernel: [ 5.0] igb 0000:01:00.0 eth1: igb: eth1 NIC Link is Down\n")
    with gzip.open(src, "wt") as f:
        f.write(text)
    dst = tmp_path / "out.gz"
    res = trim_log(str(src), str(dst), datetime(2026, 11, 25), None, time.mktime((2026, 11, 26, 0, 0, 0, 0, 0, -1)),
                   lambda rec: is_cluster_record(rec))
    lines = text.splitlines(keepends=True)
    assert gzip.decompress(dst.read_bytes()).decode() == lines[2] + lines[3] + lines[6]
    assert (res.read, res.kept, res.filtered) == (7, 3, 2)      # 2 lines before the window, 2 filtered
    # without the filter, the same window keeps su's record and its continuation line
    res = trim_log(str(src), str(dst), datetime(2026, 11, 25), None, time.mktime((2026, 11, 26, 0, 0, 0, 0, 0, -1)))
    assert gzip.decompress(dst.read_bytes()).decode() == "".join(lines[2:])
    assert (res.read, res.kept, res.filtered) == (7, 5, 0)


def test_heartbeat_own_logfile_is_not_filtered(tmp_path):
    """ha.cf's logfile stays whole (time window only), foreign-looking lines and all."""
    root = make_root(tmp_path)
    log = root / "var/log/heartbeat.log"
    data = log.read_bytes() + b"Nov 25 09:19:41 node01 sshd[1]: a line some admin pasted into ha-log\n"
    log.write_bytes(data)
    out = tmp_path / "o.tar.gz"
    assert hd("bundle", "create", "-q", "--root", root, "--node", "node01", "-o", out,
              *SINCE).returncode == 0
    everything = members(out)
    assert b"a line some admin pasted" in next(d for n, d in everything.items() if n.endswith("/heartbeat.log"))
    manifest = json.loads(next(d for n, d in everything.items() if n.endswith("manifest.json")))
    entry = {e["source"]: e for e in manifest["nodes"]["node01"]["logs"]}["/var/log/heartbeat.log"]
    assert "filter" not in entry and "lines_filtered" not in entry
    assert entry["lines_kept"] == entry["lines_read"] == data.count(b"\n")


def test_check_on_the_bundle_reads_like_the_folder(bundle, tmp_path):
    """The same node data as a plain node folder and as a bundle: the same verdicts."""
    path, _root, _ = bundle
    folder = tmp_path / "node01"
    folder.mkdir()
    with tarfile.open(path) as tar:
        top = tar.getmembers()[0].name.split("/")[0]
        for m in tar.getmembers():
            if m.isreg() and m.name.startswith(f"{top}/node01/"):
                dest = folder / m.name[len(top) + 8:]
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(tar.extractfile(m).read())
                os.utime(dest, (m.mtime, m.mtime))
    rules = discovery.all_rules()
    a = run_rules(load_target(str(path)), rules)
    b = run_rules(load_target(str(folder)), rules)
    verdict = lambda r: sorted((f.code, f.node, f.status) for f in r.findings)
    assert verdict(a) == verdict(b)
    proc = hd("check", path, "--format", "json")
    doc = json.loads(proc.stdout)                 # JSON alone on stdout
    assert doc["context"] == "bundle" and proc.returncode == 1


# ------------------------------------------------------------------ unreachable node (real ssh client)

@pytest.mark.skipif(shutil.which("ssh") is None, reason="no ssh client")
def test_unreachable_node_is_recorded_and_collection_goes_on(tmp_path):
    root = make_root(tmp_path)
    cfg = tmp_path / "ssh_config"
    cfg.write_text("Host node02\n  HostName 127.0.0.1\n  Port 9\n  StrictHostKeyChecking yes\n"
                   f"  UserKnownHostsFile {tmp_path}/known\n")
    out = tmp_path / "u.tar.gz"
    t0 = time.monotonic()
    proc = hd("bundle", "create", "--root", root, "-o", out, "--ssh-config", cfg, "--timeout", "15", *SINCE)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 3, proc.stderr            # written, but incomplete
    assert elapsed < 15
    manifest = json.loads(next(d for n, d in members(out).items() if n.endswith("manifest.json")))
    n2 = manifest["nodes"]["node02"]
    assert n2["status"] == "unreachable" and n2["where"] == "ssh node02"
    assert n2["reason"].startswith("cannot reach node02 over ssh:"), n2["reason"]
    assert manifest["nodes"]["node01"]["status"] == "ok"
    check = hd("check", out, "--format", "json")
    doc = json.loads(check.stdout)
    assert any("node node02 was not collected (unreachable)" in n for n in doc["notes"]), doc["notes"]


@pytest.mark.skipif(shutil.which("ssh") is None, reason="no ssh client")
def test_a_hanging_node_is_cut_at_the_timeout(tmp_path):
    """A node that answers the connection and then hangs (an SSH banner, then nothing: past ssh's
    ConnectTimeout) is killed at --timeout; the bundle is still written."""
    root = make_root(tmp_path)
    cfg = tmp_path / "ssh_config"
    cfg.write_text("Host node02\n  ProxyCommand sh -c 'printf \"SSH-2.0-OpenSSH_9.2 hung\\\\r\\\\n\"; sleep 60'\n")
    out = tmp_path / "h.tar.gz"
    t0 = time.monotonic()
    proc = hd("bundle", "create", "-q", "--root", root, "-o", out, "--ssh-config", cfg, "--timeout", "4", *SINCE)
    assert proc.returncode == 3, proc.stderr
    assert time.monotonic() - t0 < 12
    manifest = json.loads(next(d for n, d in members(out).items() if n.endswith("manifest.json")))
    n2 = manifest["nodes"]["node02"]
    assert n2["status"] == "unreachable" and "no answer within --timeout 4 s" in n2["reason"], n2
    assert 3.5 < n2["duration_s"] < 8


def test_missing_items_are_named_in_skip_reasons(tmp_path):
    """An item that failed or was absent on the node becomes the reason rules needing it were not evaluated."""
    root = make_root(tmp_path)
    (root / "etc/hosts").unlink()
    shutil.rmtree(root / "etc/asterisk")
    out = tmp_path / "m.tar.gz"
    assert hd("bundle", "create", "-q", "--root", root, "--node", "node01", "-o", out, *SINCE).returncode == 0
    cluster = load_target(str(out))
    node = cluster.nodes[0]
    assert node.data["hosts"].missing == "bundle item 'hosts' (cat /etc/hosts) on node01: no such file: /etc/hosts"
    assert node.data["service_configs"].missing == "bundle on node01: no Asterisk/MOR files in /etc/asterisk"
    if not node.has("boot_services"):     # this machine has neither systemd running nor chkconfig
        assert "bundle item 'boot services'" in node.data["boot_services"].missing
    report = run_rules(cluster, discovery.all_rules())
    skipped = [f for f in report.findings if f.status == "skip" and "bundle item 'hosts'" in (f.message or "")]
    assert skipped, "no rule says it skipped because of the hosts item"
    # evidence names the bundle, never the private unpack folder (log lines included)
    shown = json.dumps([str(e) for f in report.findings for e in getattr(f, "evidence", [])])
    assert "hadoctor-bundle-" not in shown.replace(str(out), ""), shown[:500]
    log = node.find("log")
    assert all(r.file.startswith(str(out) + ":") for r in log.records())


# ------------------------------------------------------------------ safe reading

def _tar(path: Path, entries, manifest=True, mode="w:gz"):
    with tarfile.open(path, mode) as tar:
        if manifest:
            data = json.dumps({"format": "hadoctor-bundle/1", "nodes": {}}).encode()
            info = tarfile.TarInfo("b/manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _reg(name, data=b"x"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link(name, target, kind):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


@pytest.mark.parametrize("case,entry,words", [
    ("dotdot", _reg("b/../../evil.txt"), ["climbs out", "evil.txt"]),
    ("absolute", _reg("/tmp/evil.txt"), ["absolute path"]),
    ("symlink", _link("b/node01/ha.cf", "/etc/shadow", tarfile.SYMTYPE), ["symbolic link", "/etc/shadow"]),
    ("hardlink", _link("b/node01/ha.cf", "/etc/passwd", tarfile.LNKTYPE), ["hard link"]),
    ("device", _link("b/node01/dev", "", tarfile.CHRTYPE), ["device"]),
])
def test_malicious_members_are_refused(tmp_path, case, entry, words):
    path = _tar(tmp_path / f"{case}.tar.gz", [entry])
    proc = hd("check", path)
    assert_clean_error(proc, *words)
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()


def test_gzip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    size = 3 * RATIO_FLOOR
    bomb = tmp_path / "bomb.tar.gz"
    with open(bomb, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9) as gz, \
            tarfile.open(fileobj=gz, mode="w") as tar:
        info = tarfile.TarInfo("b/node01/heartbeat.log")
        info.size = size

        class Zeros(io.RawIOBase):
            left = size

            def readinto(self, b):
                n = min(len(b), self.left)
                b[:n] = bytes(n)
                self.left -= n
                return n

        tar.addfile(info, Zeros())
    assert os.path.getsize(bomb) < size // 250
    t0 = time.monotonic()
    proc = hd("check", bomb)
    assert_clean_error(proc, "decompression bomb")
    assert time.monotonic() - t0 < 20


def test_nested_gzip_bomb_is_refused(tmp_path):
    inner = gzip.compress(bytes(2 * RATIO_FLOOR), 9)
    path = _tar(tmp_path / "nested.tar.gz", [_reg("b/node01/ha.cf", b"node node01\n"),
                                              _reg("b/node01/heartbeat.log.1.gz", inner)])
    assert_clean_error(hd("check", path), "heartbeat.log.1.gz", "decompression bomb")


def test_corrupt_foreign_and_non_archives(tmp_path):
    good = _tar(tmp_path / "good.tar.gz", [_reg("b/node01/ha.cf", b"node node01\n" * 2000)])
    data = good.read_bytes()
    (tmp_path / "trunc.tar.gz").write_bytes(data[: len(data) // 2])
    assert_clean_error(hd("check", tmp_path / "trunc.tar.gz"), "corrupt or truncated")
    foreign = _tar(tmp_path / "foreign.tar.gz", [_reg("etc/passwd", b"root:x:0:0\n")], manifest=False)
    assert_clean_error(hd("check", foreign), "not a hadoctor bundle")
    (tmp_path / "junk.bin").write_bytes(os.urandom(4096))
    assert_clean_error(hd("check", tmp_path / "junk.bin"), "not a bundle")
    (tmp_path / "fake.tar.gz").write_bytes(b"\x1f\x8b" + os.urandom(100))
    assert_clean_error(hd("check", tmp_path / "fake.tar.gz"))
    assert_clean_error(hd("bundle", "verify", tmp_path / "trunc.tar.gz", "--secret", "abcd"), "corrupt")


# ------------------------------------------------------------------ verify exit codes

def test_verify_exit_codes(tmp_path):
    leak = _tar(tmp_path / "leak.tar.gz", [_reg("b/node01/ha.cf", b"node node01\n"),
                                            _reg("b/node01/heartbeat.log.1.gz",
                                                 gzip.compress(b"x\ny\nthe key sesame-open-42 here\n"))])
    proc = hd("bundle", "verify", leak, "--secret", "sesame-open-42")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "heartbeat.log.1.gz (decompressed):3" in proc.stdout and "sesame-open-42" not in proc.stdout
    assert hd("bundle", "verify", leak, "--secret", "not-there-at-all").returncode == 0
    unsafe = _tar(tmp_path / "unsafe.tar.gz", [_reg("../x")])
    assert_clean_error(hd("bundle", "verify", unsafe, "--secret", "abcd"), "climbs out")
    assert hd("bundle", "verify", leak).returncode == 0  # nothing given: only the credential forms are looked for
    foreign = _tar(tmp_path / "foreign.tar.gz", [_reg("b/node01/ha.cf", b"node node01\n")], manifest=False)
    assert_clean_error(hd("bundle", "verify", foreign, "--secret", "abcd"), "no manifest.json")
    mapdoc = tmp_path / "map.json"
    mapdoc.write_text(json.dumps({"addresses": {"10.0.0.1": {"mapped": "100.64.0.1"}},
                                  "names": {"node01": {"mapped": "node1"}}}))
    proc = hd("bundle", "verify", leak, "--map-file", mapdoc, "--format", "json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 4 and {x["what"] for x in doc["leaks"]} == {"original name node01"}
    ok = _tar(tmp_path / "ok.tar.gz", [_reg("b/x.txt", b"10.0.0.11 and 110.0.0.1 and 10.0.0.100 node011 node01x\n")])
    assert hd("bundle", "verify", ok, "--map-file", mapdoc).returncode == 0


# ------------------------------------------------------------------ obfuscation

def test_obfuscator_keeps_subnets_hosts_and_nesting():
    ob = Obfuscator()
    for cidr in ("10.7.0.5/16", "10.7.3.9/24", "192.168.1.11/24", "fd12:3456::11/64"):
        ob.learn_network(cidr)
    ob.add_name("alpha", "node")
    ob.add_name("beta", "node")
    ob.add_name("gw", "host")
    ob.finish()
    m = {a: ob.address(a) for a in ("10.7.0.5", "10.7.3.9", "10.7.3.10", "192.168.1.11", "192.168.1.12",
                                   "203.0.113.7", "203.0.113.8", "fd12:3456::11", "127.0.0.1", "224.0.0.1")}
    net = lambda a, p: ipaddress.ip_network(f"{a}/{p}", strict=False)
    assert net(m["10.7.0.5"], 16) == net(m["10.7.3.9"], 16)          # /24 stays inside its /16
    assert net(m["10.7.3.9"], 24) == net(m["10.7.3.10"], 24)
    assert m["10.7.3.9"].endswith(".3.9") and m["192.168.1.11"].endswith(".11")
    assert net(m["192.168.1.11"], 24) == net(m["192.168.1.12"], 24) != net(m["10.7.0.5"], 24)
    assert net(m["203.0.113.7"], 24) == net(m["203.0.113.8"], 24)     # unknown: its /24
    assert m["fd12:3456::11"].endswith("::11") and not m["fd12:3456::11"].startswith("fd12")
    assert m["127.0.0.1"] == "127.0.0.1" and m["224.0.0.1"] == "224.0.0.1"
    originals = {"10.7.0.5", "10.7.3.9", "10.7.3.10", "192.168.1.11", "192.168.1.12", "203.0.113.7"}
    assert not originals & set(m.values())
    assert ob.text("alpha to beta via gw, alphabet Alpha alpha-db") == "node1 to node2 via host1, alphabet node1 alpha-db"
    doc = ob.map_document()
    assert doc["names"]["alpha"] == {"mapped": "node1", "role": "node"}
    assert doc["addresses"]["10.7.0.5"]["mapped"] == m["10.7.0.5"]


def _verdicts(folder, rename=None):
    report = run_rules(load_target(str(folder)), discovery.all_rules())
    rename = rename or {}
    return sorted((f.code, rename.get(f.node, f.node), f.status, f.severity) for f in report.findings
                  if f.status in ("fail", "info"))


@pytest.mark.parametrize("scenario", ["healthy", "split-brain", "findif", "foreign-cluster",
                                      "authkeys-mismatch", "node-name-mismatch"])
def test_obfuscated_capture_reaches_the_same_verdicts(tmp_path, scenario):
    """The node folders of a real lab capture (without its pcap: a bundle has none), obfuscated."""
    staging, plain = tmp_path / "s", tmp_path / "plain"
    src = FIXTURES / scenario
    for d in src.iterdir():
        if d.is_dir():
            shutil.copytree(d, staging / d.name, copy_function=shutil.copy2)
            shutil.copytree(d, plain / d.name, copy_function=shutil.copy2)
    before = _verdicts(plain)
    assert before or scenario == "healthy"
    manifest = {"nodes": {d.name: {"where": "ssh " + d.name} for d in src.iterdir() if d.is_dir()},
                "options": {}}
    doc, mapping = obfuscate_tree(staging, manifest, [d.name for d in src.iterdir() if d.is_dir()])
    renamed = {o: v["mapped"] for o, v in mapping["names"].items()}
    after = _verdicts(staging)
    assert after == sorted((c, renamed.get(n, n), s, sev) for c, n, s, sev in before)
    blob = b"".join(p.read_bytes() for p in staging.rglob("*") if p.is_file())
    for original in mapping["addresses"]:
        assert original.encode() + b"/" not in blob and original.encode() + b" " not in blob
    assert set(doc["nodes"]) <= set(renamed.values())
    assert mapping["addresses"], "nothing was mapped"
    vip = {"healthy": "10.250.1.100", "split-brain": "10.250.7.100"}.get(scenario)
    if vip:
        assert mapping["addresses"][vip]["role"] == "vip"
