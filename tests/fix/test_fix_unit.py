"""``hadoctor fix --authkeys`` without a cluster: the files it generates (checked by our parser), the
node scripts run by a real /bin/sh on a temporary root with stand-in ``heartbeat``/``cl_status``
programs, refusals, masking, backups, the journal and recovery after a SIGKILL."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest

from hadoctor.fix import keyfile, nodescript
from hadoctor.fix.keyfile import KeyFileError, NewKey
from hadoctor.fix.nodescript import parse_output
from hadoctor.commands.fix import run_fix
from hadoctor.fix.health import health_problems
from hadoctor.fix.inspect import NodeState
from hadoctor.fix.model import FixOptions
from hadoctor.parsers.authkeys import parse_authkeys
from hadoctor.remote import LocalShell, SshOptions

REPO = Path(__file__).resolve().parents[2]
OLD = b"auth 1\n1 sha1 old-secret-value\n"
ME = os.uname().nodename.lower()


# --------------------------------------------------------------------------- generated files

def test_new_key_is_long_random_hex_at_a_free_index():
    a, b = NewKey.generate(used={1, 2}), NewKey.generate(used={1, 2})
    assert a.index == 3 and a.method == "sha1"
    assert re.fullmatch(r"[0-9a-f]{64}", a.secret.reveal())          # 32 random bytes
    assert a.secret != b.secret
    with pytest.raises(KeyFileError):
        NewKey.generate(used=range(16))


@pytest.mark.parametrize("stage,active,listed", [("staged", 1, {1, 4}), ("switched", 4, {1, 4}), ("final", 4, {4})])
def test_each_stage_parses_as_heartbeat_reads_it(stage, active, listed):
    old = parse_authkeys(OLD).active
    new = NewKey.generate(used={1, 2, 3})
    data = keyfile.build(old, new, stage)
    parsed = parse_authkeys(data, mode=0o600)
    assert parsed.problems == []
    assert parsed.active_index == active and set(parsed.keys) == listed
    lines = data.decode().splitlines()
    assert lines[1] == f"auth {active}"        # the auth line precedes the key lines (order semantics)


def test_validation_rejects_a_file_that_would_sign_with_another_key():
    new = NewKey.generate(used={1})
    with pytest.raises(KeyFileError):
        keyfile.validate(b"1 sha1 x\nauth 1\n", 1, "sha1", None)      # auth after its key line: no active key
    with pytest.raises(KeyFileError):
        keyfile.validate(b"auth 1\n1 sha1 x\n", new.index, "sha1", new.secret)


def test_masking_never_shows_a_key_but_keeps_them_comparable():
    old = parse_authkeys(OLD).active
    new = NewKey.generate(used={1})
    final = keyfile.build(old, new, "final")
    diff = "\n".join(keyfile.masked_diff(OLD, final, "/etc/ha.d/authkeys", b"salt"))
    assert "old-secret-value" not in diff and new.secret.reveal() not in diff
    assert "-1 sha1 ****" in diff and f"+{new.index} sha1 **** (64 chars" in diff
    assert keyfile.masked_lines(OLD, b"s") == keyfile.masked_lines(OLD, b"s")
    assert keyfile.masked_lines(b"bogus secretword\n") == ["****"]


def test_cksum_matches_the_cksum_tool():
    for data in (b"", b"a", os.urandom(1000), keyfile.build(parse_authkeys(OLD).active, NewKey.generate({1}), "final")):
        out = subprocess.run(["cksum"], input=data, capture_output=True, check=True).stdout.decode().split()
        assert keyfile.posix_cksum(data) == f"{out[0]} {out[1]}"


# --------------------------------------------------------------------------- node scripts on a temp root

@pytest.fixture
def root(tmp_path):
    """A node's tree: /etc/ha.d (authkeys 0600, ha.cf), /var/lib/heartbeat, and stand-ins for heartbeat and
    cl_status. ``heartbeat -r`` exits with the number in <root>/reload-rc (0 by default) and logs what it did."""
    r = tmp_path / "node"
    (r / "etc/ha.d").mkdir(parents=True)
    (r / "var/lib/heartbeat").mkdir(parents=True)
    (r / "var/log").mkdir(parents=True)
    ak = r / "etc/ha.d/authkeys"
    ak.write_bytes(OLD)
    ak.chmod(0o600)
    os.utime(ak, (time.time() - 100, time.time() - 100))
    (r / "etc/ha.d/ha.cf").write_text(f"keepalive 100ms\ndeadtime 2\nwarntime 1\nbcast eth0\nnode {ME}\n")
    hb = r / "usr/libexec/heartbeat/heartbeat"
    hb.parent.mkdir(parents=True)
    hb.write_text(f"#!/bin/sh\nrc=$(cat {r}/reload-rc 2>/dev/null || echo 0)\n"
                  f"echo \"$* rc=$rc mode=$(stat -c %a {ak})\" >> {r}/reloads\n"
                  "[ \"$rc\" = 0 ] && echo 'info: Signalling heartbeat pid 1 to reread config files' >&2 "
                  "|| echo 'info: Config errors: Heartbeat pid 1 NOT restarted' >&2\nexit $rc\n")
    hb.chmod(0o755)
    cl = r / "usr/bin/cl_status"
    cl.parent.mkdir(parents=True)
    cl.write_text(f"#!/bin/sh\ncase $1 in hbstatus) exit 0;; listnodes) echo {ME};; nodestatus) echo active;; esac\n")
    cl.chmod(0o755)
    return r


def sh(script: str):
    r = LocalShell("n").run(script, timeout=30)
    return r, parse_output(r.stdout)


def staged_for(root: Path, stage="staged"):
    new = NewKey.generate(used={1})
    return new, keyfile.build(parse_authkeys(OLD).active, new, stage)


def test_apply_writes_backup_journal_and_new_file_with_a_later_mtime(root):
    ak = root / "etc/ha.d/authkeys"
    future = time.time() + 50          # an mtime in the future must still be exceeded
    os.utime(ak, (future, future))
    old_mtime = ak.stat().st_mtime
    _, content = staged_for(root)
    r, out = sh(nodescript.apply_script(str(root), content, journal_before='{"state": "staging", "b": "@BACKUP@"}',
                                        journal_after='{"state": "staged", "b": "@BACKUP@"}', backup=True))
    assert r.ok and out.ok, (r.stderr, out.values)
    assert ak.read_bytes() == content and stat.S_IMODE(ak.stat().st_mode) == 0o600
    assert ak.stat().st_mtime > old_mtime
    backup = Path(out.get("backup"))
    assert re.fullmatch(r"authkeys\.hadoctor-\d{8}T\d{6}", backup.name)
    assert backup.read_bytes() == OLD and stat.S_IMODE(backup.stat().st_mode) == 0o600
    j = root / "var/lib/heartbeat/hadoctor-fix.json"
    assert json.loads(j.read_text()) == {"state": "staged", "b": str(backup)}
    assert stat.S_IMODE(j.stat().st_mode) == 0o600
    assert (root / "reloads").read_text().split() == ["-r", "rc=0", "mode=600"]
    assert not list((root / "etc/ha.d").glob(".authkeys.hadoctor-*"))


def test_backups_never_overwrite_each_other(root):
    names = []
    for _ in range(3):          # same second: .1, .2 suffixes
        _, content = staged_for(root)
        r, out = sh(nodescript.apply_script(str(root), content, backup=True))
        assert out.ok, out.values
        names.append(Path(out.get("backup")).name)
    assert len(set(names)) == 3
    assert all(re.fullmatch(r"authkeys\.hadoctor-\d{8}T\d{6}(\.\d+)?", n) for n in names)


def test_files_are_0600_before_their_first_byte(root, tmp_path, monkeypatch):
    """A `cat` stand-in first on PATH records the mode of the file it is about to write (its stdout):
    the new authkeys, the backup and the journal are already 0600 when the first byte arrives."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "modes"
    (bindir / "cat").write_text(f"#!/bin/sh\np=$(readlink /proc/$$/fd/1)\n"
                                f"[ -f \"$p\" ] && echo \"$(stat -c %a \"$p\") $p\" >> {log}\n"
                                "exec /bin/cat \"$@\"\n")
    (bindir / "cat").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    old_umask = os.umask(0o022)
    try:
        _, content = staged_for(root)
        r, out = sh(nodescript.apply_script(str(root), content, journal_before="{}", backup=True))
    finally:
        os.umask(old_umask)
    assert out.ok, (r.stderr, out.values)
    lines = log.read_text().splitlines()
    written = {Path(line.split(" ", 1)[1]).name: line.split()[0] for line in lines}
    assert {".authkeys.hadoctor-next", ".authkeys.hadoctor-prev", ".hadoctor-fix.json.tmp"} <= set(written)
    assert any(n.startswith("authkeys.hadoctor-") for n in written)
    assert set(written.values()) == {"600"}, lines


def test_a_refused_reload_puts_the_previous_file_back(root):
    (root / "reload-rc").write_text("1\n")
    ak = root / "etc/ha.d/authkeys"
    before = ak.stat().st_mtime
    _, content = staged_for(root)
    r, out = sh(nodescript.apply_script(str(root), content))
    assert not r.ok and out.get("result") == "fail"
    assert "refused" in out.get("reason")
    assert ak.read_bytes() == OLD and stat.S_IMODE(ak.stat().st_mode) == 0o600
    assert ak.stat().st_mtime > before            # heartbeat will notice the file changed again
    assert len((root / "reloads").read_text().splitlines()) == 2   # the new file, then the old one again
    assert not list((root / "etc/ha.d").glob(".authkeys.hadoctor-*"))


def test_a_script_cut_short_in_transit_runs_nothing(root):
    _, content = staged_for(root)
    script = nodescript.apply_script(str(root), content, backup=True)
    cut = script[: script.rindex("go() {") + 12]        # ends inside the last function
    r, _ = sh(cut)
    assert (root / "etc/ha.d/authkeys").read_bytes() == OLD
    assert not list((root / "etc/ha.d").glob("*hadoctor*"))
    assert not (root / "reloads").exists()


def test_inspect_reports_files_byte_for_byte(root):
    odd = b"auth 1\n1 sha1 k\xff\x00\n# no final newline"
    (root / "etc/ha.d/authkeys").write_bytes(odd)
    r, out = sh(nodescript.inspect_script(str(root)))
    assert r.ok and out.files["authkeys"] == odd
    assert out.get("ak_stat").split()[0] == "600"
    assert out.get("hbstatus_rc") == "0" and out.all("nodestatus") == [f"{ME} active"]


# --------------------------------------------------------------------------- refusals

def info(name, *, uname=None, nodes=("n1", "n2"), peers=None, running=True, key=OLD, cl=True):
    out = nodescript.Output()
    out.values = {"uname": [uname or name], "heartbeat": ["/usr/libexec/heartbeat/heartbeat"]}
    if cl:
        out.values["cl_status"] = ["/usr/bin/cl_status"]
    i = NodeState(name, LocalShell(name), out)
    i.parsed = parse_authkeys(key, mode=0o600)
    from hadoctor.parsers.hacf import parse_hacf

    i.hacf = parse_hacf("".join(f"node {n}\n" for n in nodes).encode())
    i.running = running
    i.peers = peers if peers is not None else {n: "active" for n in nodes}
    return i


def test_healthy_cluster_has_no_refusal():
    assert health_problems({"n1": info("n1"), "n2": info("n2")}, ["n1", "n2"]) == ([], [])


@pytest.mark.parametrize("change,needle", [
    ({"peers": {"n1": "active", "n2": "dead"}}, "sees n2 as 'dead'"),
    ({"running": False}, "heartbeat is not running"),
    ({"uname": "other"}, "calls itself 'other'"),
    ({"key": b"auth 2\n2 sha1 another\n"}, "active keys differ"),
    ({"key": b"auth 1\n"}, "Auth Key [1] not found"),
    ({"nodes": ("n1", "n2", "n3")}, "n3, not in this rotation"),
])
def test_unhealthy_cluster_is_refused_with_the_reason(change, needle):
    refuse, _ = health_problems({"n1": info("n1"), "n2": info("n2", **change)}, ["n1", "n2"])
    assert any(needle in r for r in refuse), refuse


def test_fix_asks_xnd004_whether_the_keys_differ_not_a_copy_of_it():
    """Keys that differ are XND004's verdict: the same key under another index differs too (the peer has
    no such index to check the packets with)."""
    same_key_other_index = OLD.replace(b"auth 1", b"auth 2").replace(b"\n1 ", b"\n2 ")
    assert same_key_other_index != OLD
    refuse, _ = health_problems({"n1": info("n1"), "n2": info("n2", key=same_key_other_index)}, ["n1", "n2"])
    assert any("active keys differ" in r for r in refuse), refuse


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_authkeys_heartbeat_would_refuse_is_refused_with_the_chmod(mode):
    bad = info("n2")
    bad.mode = mode
    bad.parsed = parse_authkeys(OLD, mode=mode)
    refuse, _ = health_problems({"n1": info("n1"), "n2": bad}, ["n1", "n2"])
    assert [r for r in refuse if "authkeys" in r] == [r for r in refuse if r.startswith("n2: ")]
    assert len(refuse) == 1 and f"mode {mode:04o}" in refuse[0], refuse
    assert "on n2: chmod 600 /etc/ha.d/authkeys" in refuse[0], refuse


def test_authkeys_mode_heartbeat_accepts_only_warns():
    odd = info("n2")
    odd.mode = 0o620                     # group-writable: heartbeat checks only the read bits
    odd.parsed = parse_authkeys(OLD, mode=0o620)
    refuse, warn = health_problems({"n1": info("n1"), "n2": odd}, ["n1", "n2"])
    assert refuse == [] and warn == ["n2: authkeys is mode 0620; the new file will be 0600"]


def test_run_refuses_an_authkeys_readable_by_others_and_changes_nothing(root, capsys):
    ak = root / "etc/ha.d/authkeys"
    ak.chmod(0o644)
    before = ak.stat().st_mtime_ns
    rc = run_fix(FixOptions(yes=True, root=str(root), fmt="json"))
    doc = json.loads(capsys.readouterr().out)
    assert rc == 2 and doc["action"] == "refused", doc
    assert "chmod 600 /etc/ha.d/authkeys" in doc["message"] and "nothing was changed" in doc["message"]
    assert ak.read_bytes() == OLD and stat.S_IMODE(ak.stat().st_mode) == 0o644 and ak.stat().st_mtime_ns == before
    assert not list((root / "etc/ha.d").glob("*hadoctor*")) and not (root / "reloads").exists()
    assert not (root / "var/lib/heartbeat/hadoctor-fix.json").exists()


def test_a_stopped_heartbeat_is_the_one_reason_about_that_node():
    # node02 stopped: node01 sees it dead, node02's cl_status lists nobody; only the cause is given
    refuse, _ = health_problems({"n1": info("n1", peers={"n1": "active", "n2": "dead"}),
                                 "n2": info("n2", running=False, peers={})}, ["n1", "n2"])
    assert refuse == ["n2: heartbeat is not running (cl_status hbstatus / pid file)"]


def test_hacf_differing_from_what_heartbeat_read_is_refused_whatever_its_mtime():
    from hadoctor.parsers.hacf import parse_hacf

    copied = info("n2")
    copied.hacf = parse_hacf(b"keepalive 1\nwarntime 4\nnode n1\nnode n2\n")
    copied.running_params = {"keepalive": "1", "warntime": "3", "deadtime": "5", "debugfile": "/dev/null"}
    refuse, _ = health_problems({"n1": info("n1"), "n2": copied}, ["n1", "n2"])
    assert len(refuse) == 1 and refuse[0].startswith("n2: /etc/ha.d/ha.cf differs from what the running"), refuse
    assert "warntime '4' in the file but '3' running" in refuse[0] and "heartbeat -r" in refuse[0]
    copied.running_params["warntime"] = "4"          # what it read; deadtime/debugfile: not in the file
    assert health_problems({"n1": info("n1"), "n2": copied}, ["n1", "n2"]) == ([], [])


def test_log_counts_notice_a_restart_exec():
    from hadoctor.fix.observe import log_counts

    c = log_counts(b"Nov 25 07:34:51 n2 heartbeat: [812]: info: Heartbeat restart triggered.\n"
                   b"Nov 25 07:34:52 n2 heartbeat: [812]: info: Performing heartbeat restart exec.\n"
                   b"Nov 25 07:34:53 n2 heartbeat: [812]: info: Rereading authentication file.\n")
    assert (c.restarts, c.rereads) == (1, 1)
    assert log_counts(b"Nov 25 07:34:53 n2 heartbeat: [812]: info: Rereading authentication file.\n").restarts == 0


def test_unreachable_node_stops_before_any_change(root, tmp_path, capsys):
    (root / "etc/ha.d/ha.cf").write_text(f"keepalive 1\nbcast eth0\nnode {ME}\nnode peer2\n")
    fake_ssh = tmp_path / "ssh"
    fake_ssh.write_text("#!/bin/sh\necho 'ssh: connect to host peer2 port 22: Connection refused' >&2\nexit 255\n")
    fake_ssh.chmod(0o755)
    rc = run_fix(FixOptions(yes=True, root=str(root), fmt="json", ssh=SshOptions(binary=str(fake_ssh))))
    doc = json.loads(capsys.readouterr().out)
    assert rc == 2 and doc["action"] == "refused"
    assert "cannot reach peer2 over ssh: ssh: connect to host peer2 port 22: Connection refused" in doc["message"]
    assert "nothing was changed" in doc["message"]
    assert (root / "etc/ha.d/authkeys").read_bytes() == OLD
    assert not list((root / "etc/ha.d").glob("*hadoctor*")) and not (root / "reloads").exists()


# --------------------------------------------------------------------------- whole runs on one node

def test_dry_run_shows_the_plan_with_keys_masked_and_changes_nothing(root, capsys):
    rc = run_fix(FixOptions(dry_run=True, root=str(root), fmt="json"))
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert rc == 0 and doc["action"] == "dry-run"
    assert "old-secret-value" not in out and not re.search(r"[0-9a-f]{64}", out)
    assert any("****" in line for line in doc["diff"][ME])
    assert (root / "etc/ha.d/authkeys").read_bytes() == OLD and not (root / "reloads").exists()


def test_rotation_on_one_node(root, capsys):
    rc = run_fix(FixOptions(yes=True, root=str(root), fmt="json"))
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0, doc["message"]
    parsed = parse_authkeys((root / "etc/ha.d/authkeys").read_bytes(), mode=0o600)
    assert parsed.problems == [] and set(parsed.keys) == {doc["new_index"]} and parsed.active_index == 2
    assert len((root / "reloads").read_text().splitlines()) == 3        # stage, switch, final
    assert json.loads((root / "var/lib/heartbeat/hadoctor-fix.json").read_text())["state"] == "done"
    assert Path(doc["backups"][ME]).read_bytes() == OLD


def _cli(root, env=None, timeout=60):
    return subprocess.Popen([sys.executable, "-m", "hadoctor", "fix", "--authkeys", "--yes", "--root", str(root),
                             "--format", "json"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, **(env or {})))


@pytest.mark.parametrize("point,action,rc", [("staged", "rolled-back", 1), ("switch-ready", "rolled-back", 1),
                                              ("switch-unconfirmed", "rolled-back", 1),
                                              ("switched", "recover", 0), ("verified", "recover", 0)])
def test_sigkill_then_rerun_completes_or_rolls_back(root, point, action, rc):
    proc = _cli(root, {"HADOCTOR_FIX_PAUSE_AT": point})
    line = b""
    deadline = time.monotonic() + 60
    while b"paused at" not in line and time.monotonic() < deadline:
        line = proc.stderr.readline()
        assert line or proc.poll() is None, "hadoctor ended without pausing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    data = (root / "etc/ha.d/authkeys").read_bytes()
    assert not parse_authkeys(data, mode=0o600).problems
    assert json.loads((root / "var/lib/heartbeat/hadoctor-fix.json").read_text())["state"] in \
        ("staged", "switching", "switched", "reverted", "finalizing", "done")
    again = _cli(root)
    out, err = again.communicate(timeout=60)
    doc = json.loads(out)
    assert (doc["action"], again.returncode) == (action, rc), doc["message"] + err.decode()
    final = (root / "etc/ha.d/authkeys").read_bytes()
    if rc == 1:
        assert final == OLD
    else:
        assert parse_authkeys(final).active_index != 1 and set(parse_authkeys(final).keys) == {parse_authkeys(final).active_index}
    assert stat.S_IMODE((root / "etc/ha.d/authkeys").stat().st_mode) == 0o600
    assert json.loads((root / "var/lib/heartbeat/hadoctor-fix.json").read_text())["state"] in ("done", "rolled-back")
    assert not list((root / "etc/ha.d").glob(".authkeys.hadoctor-*"))


@pytest.mark.parametrize("versions,expected", [(("1.0.5", "1.0.5"), "classic"), (("1.0.12-21+b2", "1.0.5"), "netstring"),
                                               (("", ""), "netstring")])
def test_procedure_from_glue_versions_when_the_wire_is_not_observed(versions, expected):
    from hadoctor.fix.model import FixProgress
    from hadoctor.fix.rotate import choose_procedure
    from hadoctor.fix.run import Run

    rot = Run(FixOptions(capture=False), FixProgress())
    rot.local = "n1"
    rot.infos = {}
    for name, version in zip(("n1", "n2"), versions):
        i = info(name)
        i.out.values["glue"] = [version]
        rot.infos[name] = i
    choose_procedure(rot)
    assert rot.report.procedure == expected, rot.report.procedure_reason


# --------------------------------------------------------------------------- ha.cf changed since heartbeat read it

@pytest.mark.parametrize("mtime,started,read_at,expected", [
    (1000, 1005.3, None, False),          # ha.cf older than heartbeat's start
    (1007, 1005.3, None, False),          # within the start's whole-second uncertainty
    (1010, 1005.3, None, True),           # newer than the start: pending
    (1010, 1005.3, 12, False),            # ... but a later restart exec / reread line in the log
    (1010, 1005.3, 9, True),              # a reload line before the change does not help
    (1010, None, None, None),             # nothing to compare with
])
def test_hacf_changed_after_heartbeat_read_it(mtime, started, read_at, expected):
    from datetime import datetime, timedelta

    from hadoctor.fix.hacfcheck import changed_after_read

    base = datetime(2026, 11, 25, 7, 34, 0)
    mtime_local = base + timedelta(seconds=mtime - 1000)
    at = base + timedelta(seconds=read_at) if read_at is not None else None
    assert changed_after_read(mtime, started, mtime_local, at) is expected


def test_pending_hacf_is_refused_naming_node_and_file():
    from datetime import datetime

    pending = info("n2")
    pending.hacf_mtime, pending.hb_started, pending.hb_pid = 2000, 1000.0, 812
    pending.hacf_mtime_local = datetime(2026, 11, 25, 7, 50, 0)
    fine = info("n1")
    fine.hacf_mtime, fine.hb_started = 900, 1000.0
    refuse, _ = health_problems({"n1": fine, "n2": pending}, ["n1", "n2"])
    assert len(refuse) == 1 and refuse[0].startswith("n2: /etc/ha.d/ha.cf was modified at 2026-11-25 07:50:00")
    assert "pid 812" in refuse[0] and "heartbeat -r" in refuse[0] and "--force" in refuse[0]
    pending.read_mark = (datetime(2026, 11, 25, 7, 50, 3), "Performing heartbeat restart exec.")
    assert health_problems({"n1": fine, "n2": pending}, ["n1", "n2"]) == ([], [])


@pytest.fixture
def daemon(root, tmp_path):
    """A process named ``heartbeat`` (a copy of sleep) in <root>/run/heartbeat.pid: the "running master"."""
    exe = tmp_path / "bin" / "heartbeat"
    exe.parent.mkdir()
    exe.write_bytes(Path("/bin/sleep").read_bytes())
    exe.chmod(0o755)
    (root / "etc/ha.d/ha.cf").write_text(f"logfile /var/log/ha-log\nkeepalive 100ms\ndeadtime 2\nwarntime 1\n"
                                         f"bcast eth0\nnode {ME}\n")
    proc = subprocess.Popen([str(exe), "300"])
    (root / "run").mkdir()
    (root / "run/heartbeat.pid").write_text(f"{proc.pid:>10}\n")      # heartbeat pads it: "%10ld"
    yield proc
    proc.kill()
    proc.wait()


def test_run_refuses_an_unreloaded_hacf_and_changes_nothing(root, daemon, capsys):
    hacf = root / "etc/ha.d/ha.cf"
    edited = int(time.time()) + 10            # edited well after heartbeat started
    os.utime(hacf, (edited, edited))
    before = sorted(p.name for p in (root / "etc/ha.d").iterdir())
    rc = run_fix(FixOptions(yes=True, root=str(root), fmt="json"))
    doc = json.loads(capsys.readouterr().out)
    assert rc == 2 and doc["action"] == "refused", doc["message"]
    assert f"{ME}: /etc/ha.d/ha.cf was modified at" in doc["message"]
    assert f"pid {daemon.pid}" in doc["message"] and "no later restart or reload in its log" in doc["message"]
    assert "reload heartbeat first (heartbeat -r)" in doc["message"].lower() and "--force" in doc["message"]
    assert (root / "etc/ha.d/authkeys").read_bytes() == OLD and not (root / "reloads").exists()
    assert sorted(p.name for p in (root / "etc/ha.d").iterdir()) == before
    assert not (root / "var/lib/heartbeat/hadoctor-fix.json").exists()

    rc = run_fix(FixOptions(dry_run=True, force=True, root=str(root), fmt="json"))
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["action"] == "dry-run" and any("ha.cf was modified" in r for r in doc["refusals"])

    # a reload line after the edit, but from another process than the running master: still refused
    log = root / "var/log/ha-log"
    stamp = time.strftime("%b %d %H:%M:%S", time.localtime(edited + 1))
    log.write_text(f"{stamp} {ME} heartbeat: [{daemon.pid + 1}]: info: Configuration unchanged.\n")
    rc = run_fix(FixOptions(dry_run=True, root=str(root), fmt="json"))
    doc = json.loads(capsys.readouterr().out)
    assert rc == 2 and "ha.cf was modified" in doc["message"]
    # heartbeat -r applied it: the master logged a restart exec after the edit
    with log.open("a") as f:
        f.write(f"{stamp} {ME} heartbeat: [{daemon.pid}]: info: Performing heartbeat restart exec.\n")
    rc = run_fix(FixOptions(dry_run=True, root=str(root), fmt="json"))
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["refusals"] == [], doc["message"]


def test_hacf_written_before_heartbeat_started_is_fine(root, daemon, capsys):
    rc = run_fix(FixOptions(dry_run=True, root=str(root), fmt="json"))
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["refusals"] == [] and not any("ha.cf" in w for w in doc["warnings"]), doc


# --------------------------------------------------------------------------- commit confirmed (the node's watchdog)

def _held_switch(root: Path, deadline: float = 0.6, stale: int = 10, log: Optional[Path] = None):
    """A held switch with a watchdog on the temp root: (Held, the switched content); with ``log``, a
    confirmed node watches it for 1.5 s past the deadline."""
    from hadoctor.fix.session import Held
    from hadoctor.fix.switch import reject_marks

    _, content = staged_for(root, "switched")
    wd = nodescript.Watchdog(deadline, stale, '{"state": "reverted"}', watch_s=1.5 if log else 0.0,
                             log_path=str(log) if log else None, reject_marks=reject_marks())
    h = Held(LocalShell("n"), nodescript.apply_script(str(root), content, journal_before='{"state": "switching"}',
                                                      journal_after='{"state": "switched"}', hold=True,
                                                      watchdog=wd))
    assert h.wait_ready(10), h.error
    return h, content


def _journal_state(root: Path):
    return json.loads((root / "var/lib/heartbeat/hadoctor-fix.json").read_text())["state"]


def _leftovers(root: Path):
    return sorted(p.name for d in ("etc/ha.d", "var/lib/heartbeat") for p in (root / d).glob(".*hadoctor*"))


def _wait_for(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_confirmed_switch_stays_and_disarms(root):
    h, content = _held_switch(root)
    h.send_go(close=False)
    assert h.wait_line(b"switched=yes", time.monotonic() + 5) is True
    h.send_confirm()
    done = h.finish(10)
    assert done.output.get("confirmed") == "yes" and done.output.ok, done.output.values
    time.sleep(0.9)                     # past the deadline: nothing reverts
    ak = root / "etc/ha.d/authkeys"
    assert ak.read_bytes() == content and stat.S_IMODE(ak.stat().st_mode) == 0o600
    assert _journal_state(root) == "switched"
    assert _leftovers(root) == []
    assert len((root / "reloads").read_text().splitlines()) == 1


REJECTED = "Dec 04 12:00:00 n heartbeat: [7]: ERROR: authtoken does not match, authtoken=1, authstr=2\n"


@pytest.mark.parametrize("peer", ["reverted", "confirmed"])
def test_a_confirmed_node_follows_a_peer_that_reverted(root, peer):
    """Confirmed, the node watches its log past the deadline: a packet rejected then (a peer whose
    confirmation never came, back on the old key) makes it revert too; one rejected before the
    deadline (in flight at the switch) does not."""
    log = root / "var/log/ha-log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    ak = root / "etc/ha.d/authkeys"
    h, content = _held_switch(root, log=log)
    t_go = time.monotonic()
    h.send_go(close=False)
    assert h.wait_line(b"switched=yes", time.monotonic() + 5) is True
    with log.open("a") as f:
        f.write(REJECTED)                                   # in flight at the switch
    h.send_confirm()
    done = h.finish(10)
    assert done.output.get("confirmed") == "yes" and done.output.ok, done.output.values
    time.sleep(max(0.0, t_go + 1.1 - time.monotonic()))    # past the 0.6 s deadline, inside the watch
    assert ak.read_bytes() == content
    r, out = sh(nodescript.inspect_script(str(root)))
    assert out.get("armed"), "a watching node says it is armed: a re-run waits for it"
    if peer == "reverted":
        with log.open("a") as f:
            f.write(REJECTED)
        assert _wait_for(lambda: ak.read_bytes() == OLD, 3), ak.read_bytes()
        assert _wait_for(lambda: _journal_state(root) == "reverted", 3)
    assert _wait_for(lambda: _leftovers(root) == [], 4), _leftovers(root)     # the watch is over
    if peer == "confirmed":
        assert ak.read_bytes() == content and _journal_state(root) == "switched"
    assert stat.S_IMODE(ak.stat().st_mode) == 0o600


@pytest.mark.parametrize("how", ["eof", "kill-session"])
def test_unconfirmed_switch_reverts_by_itself(root, how):
    """No confirm: the session ends (hadoctor gone: end of input) or its whole process group is
    SIGKILLed (as an ssh session's end or a kill would); the detached watchdog puts the previous
    file back with a newer mtime and reloads."""
    from hadoctor.remote import kill_group

    ak = root / "etc/ha.d/authkeys"
    h, content = _held_switch(root)
    h.send_go(close=False)
    assert h.wait_line(b"switched=yes", time.monotonic() + 5) is True
    switched_mtime = ak.stat().st_mtime
    if how == "eof":
        h.abandon()
    else:
        kill_group(h.proc)
    h.finish(5)
    assert ak.read_bytes() == content                  # nothing reverts before the deadline
    assert _wait_for(lambda: ak.read_bytes() == OLD, 5), ak.read_bytes()
    assert _wait_for(lambda: _leftovers(root) == [], 3), _leftovers(root)
    assert stat.S_IMODE(ak.stat().st_mode) == 0o600 and ak.stat().st_mtime > switched_mtime
    assert _journal_state(root) == "reverted"
    assert [line.split()[0] for line in (root / "reloads").read_text().splitlines()] == ["-r", "-r"]


def test_a_confirm_after_the_deadline_is_refused_and_the_file_stays_reverted(root):
    h, _ = _held_switch(root, deadline=0.3)
    h.send_go(close=False)
    assert h.wait_line(b"switched=yes", time.monotonic() + 5) is True
    assert _wait_for(lambda: (root / "etc/ha.d/authkeys").read_bytes() == OLD, 5)
    h.send_confirm()
    done = h.finish(5)
    assert done.output.get("confirmed") != "yes" and not done.output.ok
    assert (root / "etc/ha.d/authkeys").read_bytes() == OLD


def test_a_late_go_switches_nothing(root):
    h, _ = _held_switch(root, stale=0)
    time.sleep(1.2)                      # whole seconds on the node: 1 s late > 0 allowed
    h.send_go(close=False)
    done = h.finish(5)
    assert not done.output.ok and "after ready" in done.output.get("reason"), done.output.values
    assert (root / "etc/ha.d/authkeys").read_bytes() == OLD
    assert not (root / "reloads").exists()
    assert _leftovers(root) == []


def test_inspect_reports_an_armed_revert(root):
    h, _ = _held_switch(root, deadline=0.5)
    h.send_go(close=False)
    assert h.wait_line(b"switched=yes", time.monotonic() + 5) is True
    r, out = sh(nodescript.inspect_script(str(root)))
    armed = int(out.get("armed"))
    assert 0 < armed - int(out.get("now")) <= 3
    h.abandon()
    h.finish(5)
    assert _wait_for(lambda: "armed" not in sh(nodescript.inspect_script(str(root)))[1].values, 5)


def test_quiet_release_waits_until_the_due_heartbeat_was_seen():
    """Node b's heartbeat is due now but comes 0.15 s late (timer jitter): the release waits to *see* it,
    and 0.1 s more (it may still wait in its receiver's queue), then goes while a's next one is still
    0.45 s away."""
    from hadoctor.fix.model import FixProgress
    from hadoctor.fix.run import Run
    from hadoctor.fix.switch import quiet_release

    t0 = time.time()

    class Capture:
        def last_seen(self):
            late = time.time() - t0 > 0.15
            return {"a": t0 - 0.3, "b": t0 + 0.15 if late else t0 - 0.98}

    run = Run(FixOptions(capture=False), FixProgress())
    run.watch = Capture()
    run.keepalive_max = lambda: 1.0
    quiet_release(run, ["a", "b"])      # quiet span min(0.4, 1/3) s
    waited = time.time() - t0
    assert 0.25 <= waited < 0.45, waited
    assert 200 <= run.report.release_delay_ms < 450     # counted from the call, a moment after t0
