"""Data is never markup and never a terminal escape: hostile node, folder and file names, log lines,
rule texts, archive member names and packet fields go through every text output, in a pipe and on a
pseudo-terminal, and come out as visible text (issue 14). Also the width policy end to end: no hard
wrap in a pipe, hanging indents within 80 columns on a terminal (issue 11)."""

from __future__ import annotations

import os
import pty
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "split-brain"
SGR = re.compile(rb"\x1b\[[0-9;]*m")  # rich's own colours on a terminal (the hostile input has none)
EVIL_FOLDER = "node\x1b]0;owned\x07\x9b01"
EVIL_LOG = (b"Nov 25 09:19:27 node02 heartbeat: [2129]: ERROR: evil \x1b[2J\x1bc\x1b]2;title\x07\xc2\x9b6n "
            b"[link=file:///etc/passwd]node01[/link] [/] \xff\x9b end\\\n"
            b"Nov 25 09:19:28 node02 heartbeat: [2129]: info: Link node01:\xff\x9b\x1b]0;x\x07eth9 dead.\n")
PLUGIN = '''
from hadoctor.rulekit import Doc, fail, log_rule

@log_rule("ZZZ900", "echo \\x1b[2J[/] title", severity="warning", patterns={"evil": r"evil (?P<what>.*)"},
          doc=Doc(meaning="shows the \\x1b]0;x\\x07 line [/]", why="[link=file:///etc/passwd]x[/link]", fix="\\x9b"))
def echo(node, hits):
    yield fail(f"saw {hits['evil'].last.message}", hits["evil"].evidence(node), fix="[/] \\x1bc")
'''


def hostile_cluster(root: Path) -> Path:
    target = root / "c"
    shutil.copytree(EXAMPLE, target)
    os.rename(target / "node01", target / EVIL_FOLDER)
    (target / "node02" / "uname-n.txt").write_bytes(b"[/]\n")
    with open(target / "node02" / "heartbeat.log", "ab") as log:
        log.write(EVIL_LOG)
    (root / "plugin").mkdir()
    (root / "plugin" / "zzz.py").write_text(PLUGIN)
    return target


def assert_clean(out: bytes, what: str) -> None:
    """No control byte but newline and tab (and, on a terminal, rich's own colour codes and CR)."""
    text = SGR.sub(b"", out).replace(b"\r\n", b"\n")
    bad = sorted({b for b in text if (b < 0x20 and b not in (9, 10)) or b == 0x7f})
    assert not bad, f"{what}: raw control bytes {bad} in {text[:2000]!r}"
    assert b"\xc2\x9b" not in text and b"\x9b" not in text.replace(b"\\x9b", b""), what  # 8-bit CSI
    assert b"Traceback" not in text and b"MarkupError" not in text, f"{what}: {text[-3000:]!r}"


def run_pipe(*args, columns: str = "80"):
    env = dict(os.environ, COLUMNS=columns, TERM="xterm")
    env.pop("HADOCTOR_STRICT", None)
    proc = subprocess.run([sys.executable, "-m", "hadoctor", *map(str, args)], capture_output=True, timeout=120,
                          env=env, cwd=REPO)
    return proc.returncode, proc.stdout, proc.stderr


def run_tty(*args, columns: int = 80):
    """The command on a pseudo-terminal of ``columns`` columns: stdout and stderr as a person sees them."""
    import fcntl
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = dict(os.environ, COLUMNS=str(columns), TERM="xterm")
    env.pop("HADOCTOR_STRICT", None)
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "hadoctor", *map(str, args)], stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, env=env, cwd=REPO)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.wait(timeout=120), b"".join(chunks)


COMMANDS = [
    ("check", "{c}"),
    ("check", "{c}", "--show-all", "--rules-dir", "{plugin}"),
    ("snapshot", "{c}"),
    ("timeline", "{c}"),
    ("rules", "--rules-dir", "{plugin}"),
    ("rule", "ZZZ900", "--rules-dir", "{plugin}"),
    ("rule", "\x1b[2JNOPE"),
    ("parse", "log", "{c}/node02/heartbeat.log"),
    ("parse", "ha.cf", "{c}/" + EVIL_FOLDER + "/ha.cf"),
    ("check", "{c}/no\x1bc-such"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]).replace("\x1b", "ESC"))
def test_hostile_input_in_a_pipe_and_on_a_terminal(tmp_path, args):
    c = hostile_cluster(tmp_path)
    argv = [a.format(c=c, plugin=tmp_path / "plugin") for a in args]
    code, out, err = run_pipe(*argv)
    assert code in (0, 1, 2, 3), err
    assert_clean(out, "stdout"), assert_clean(err, "stderr")
    tty_code, screen = run_tty(*argv)
    assert tty_code == code
    assert_clean(screen, "terminal")


def test_hostile_strings_are_shown_literally(tmp_path):
    c = hostile_cluster(tmp_path)
    code, out, _ = run_pipe("check", c, "--rules-dir", tmp_path / "plugin")
    text = out.decode()
    assert code == 1
    assert "[link=file:///etc/passwd]node01[/link]" in text  # the data, not a hyperlink named node01
    assert "evil \\x1b[2J\\x1bc\\x1b]2;title\\a\\x9b6n" in text  # ESC and C1 CSI visible
    assert "\\xff\\x9b end\\" in text  # undecodable bytes shown as the bytes they were
    assert "node\\x1b]0;owned\\a\\x9b01" in text  # the folder name
    assert "[CFG302" not in text and "[[/]]" in text  # the node named "[/]" is shown as such
    _, snap, _ = run_pipe("snapshot", c)
    assert b"node [/]  (folder " in snap


def test_timeline_pictures_of_hostile_logs_are_valid_and_show_controls(tmp_path):
    import xml.dom.minidom

    c = hostile_cluster(tmp_path)
    for option, name in (("--svg", "t.svg"), ("--html", "t.html")):
        code, out, err = run_pipe("timeline", c, option, tmp_path / name)
        assert code == 0, err
        data = (tmp_path / name).read_bytes()
        assert_clean(data, name)
        assert b"node01:\\xff\\x9b\\x1b]0;x\\aeth9" in data  # the undecodable bytes and ESC, visible
    xml.dom.minidom.parse(str(tmp_path / "t.svg"))  # XML forbids raw control characters


def test_piped_output_is_never_hard_wrapped():
    code, out, _ = run_pipe("check", EXAMPLE, columns="80")
    text = out.decode()
    fix = [line for line in text.splitlines() if line.lstrip().startswith("fix:")]
    assert fix and any(len(line) > 80 for line in fix)
    assert all(line.rstrip().endswith((".", ")")) for line in fix)  # each fix whole on its line
    assert not any(line.startswith(("on every", "<peer>", "CFG201")) for line in text.splitlines())
    assert not any(line.endswith(" ") for line in text.splitlines())


def test_terminal_output_fits_80_columns_with_hanging_indents():
    _, screen = run_tty("check", EXAMPLE, columns=80)
    lines = SGR.sub(b"", screen).decode().replace("\r\n", "\n").splitlines()
    assert lines and all(len(line) <= 80 for line in lines), max(lines, key=len)
    fix_at = [i for i, line in enumerate(lines) if line.startswith("      fix: ")]
    assert fix_at
    wrapped = [lines[i + 1] for i in fix_at if lines[i + 1].startswith(" " * 11)]
    assert wrapped and all(line[11] != " " for line in wrapped)  # continuation under the fix text
    assert not any(line and not line.startswith(" ") and line[0].islower() for line in lines[2:])


@pytest.mark.parametrize("args", [("rules",), ("timeline", str(EXAMPLE)), ("snapshot", str(EXAMPLE)),
                                  ("rule", "LOG001"), ("check", str(EXAMPLE), "--show-all"),
                                  ("probe", "listen", "--pcap", str(REPO / "tests/fixtures/lab/foreign-cluster/heartbeat.pcap"),
                                   "--ha-cf", str(REPO / "tests/fixtures/lab/foreign-cluster/node01/ha.cf"))])
def test_other_commands_fit_80_columns_and_do_not_cut_words(args):
    _, screen = run_tty(*args, columns=80)
    lines = SGR.sub(b"", screen).decode().replace("\r\n", "\n").splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert not [line for line in lines if line.endswith(" ")]
    words = {w for line in lines for w in line.split()}
    if args[0] == "rules":
        from hadoctor.engine import discovery

        for r in discovery.all_rules([]):
            assert set(r.title.split()) <= words, r.title  # wrapped between words only
        titled = [line for line in lines if re.match(r"[A-Z]{3}\d{3} ", line)]
        assert len(titled) >= 60 and len(lines) < 2 * len(titled)  # most titles on one line
    if args[0] == "timeline":
        assert {"local_status", "takeover_complete", "heartbeat.log:7", "IPaddr::10.250.7.100/24/eth0"} <= words


# ------------------------------------------------------------------ packets, archive members, fix

EVIL_SRC = "web\x1b]0;owned\x07[/]\x1bc[link=file:///etc/passwd]x[/link]"


def hostile_pcap(path: Path) -> Path:
    from hadoctor.wire.codec import encode_netstring, status_message
    from tests.wire.pcapbuild import frame, ipv4_udp, pcap

    records = []
    for seq in range(1, 4):
        payload = encode_netstring(status_message(EVIL_SRC, seq=seq, hg=1, ts=1700000000 + seq))
        records.append((1700000000.0 + seq, frame(1, ipv4_udp("10.250.9.9", "10.250.9.255", 694, 694, payload))))
    path.write_bytes(pcap(records))
    return path


def test_probe_listen_shows_packet_fields_literally(tmp_path):
    cap = hostile_pcap(tmp_path / "evil.pcap")
    hacf = tmp_path / "ha.cf"
    hacf.write_text("keepalive 1\ndeadtime 10\nudpport 694\nbcast eth0\nnode node01\nnode node02\n")
    argv = ["probe", "listen", "--pcap", cap, "--ha-cf", hacf]
    code, out, err = run_pipe(*argv)
    assert_clean(out, "stdout"), assert_clean(err, "stderr")
    assert "web\\x1b]0;owned\\a[/]\\x1bc[link=file:///etc/passwd]x[/link]" in out.decode()
    tty_code, screen = run_tty(*argv)
    assert tty_code == code and code == 1
    assert_clean(screen, "terminal")


def test_bundle_verify_shows_member_names_literally(tmp_path):
    import io
    import tarfile

    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in (("b/manifest.json", b"{}"),
                           ("b/node\x1b]0;owned\x07/ha.cf\x1b[2J[/]", b"secret hunter2 here\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    secrets = tmp_path / "secrets"
    secrets.write_text("hunter2\n")
    argv = ["bundle", "verify", path, "--secrets-file", secrets]
    code, out, err = run_pipe(*argv)
    assert_clean(out, "stdout"), assert_clean(err, "stderr")
    assert code in (2, 4)  # 4: a leak; 2 if the archive is refused as a whole
    if code == 4:  # the leak is named by its member, shown literally
        assert "node\\x1b]0;owned\\a/ha.cf\\x1b[2J[/]" in out.decode()
    tty_code, screen = run_tty(*argv)
    assert tty_code == code
    assert_clean(screen, "terminal")
    bad = tmp_path / "climb.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        info = tarfile.TarInfo("b/../\x1bc\x1b]2;x\x07")
        tar.addfile(info, io.BytesIO(b""))
    code, out, err = run_pipe("bundle", "verify", bad)
    assert code == 2 and b"hadoctor: error:" in err
    assert_clean(out, "stdout"), assert_clean(err, "stderr")


def test_fix_text_output_shows_node_names_and_remote_errors_literally(tmp_path, capsys):
    from hadoctor.commands.fix import run_fix
    from hadoctor.fix.model import FixOptions
    from hadoctor.remote import SshOptions

    pytest.importorskip("tests.fix.test_fix_unit")
    from tests.fix.test_fix_unit import ME, OLD

    root = tmp_path / "node"
    (root / "etc/ha.d").mkdir(parents=True)
    (root / "etc/ha.d/authkeys").write_bytes(OLD)
    (root / "etc/ha.d/authkeys").chmod(0o600)
    (root / "etc/ha.d/ha.cf").write_text(f"keepalive 1\nbcast eth0\nnode {ME}\nnode peer2\n")
    fake_ssh = tmp_path / "ssh"
    fake_ssh.write_text("#!/bin/sh\nprintf 'ssh: \\033]0;owned\\007 [/] \\033c refused\\n' >&2\nexit 255\n")
    fake_ssh.chmod(0o755)
    for dry_run in (True, False):
        rc = run_fix(FixOptions(dry_run=dry_run, yes=True, root=str(root), fmt="text",
                                ssh=SshOptions(binary=str(fake_ssh))))
        captured = capsys.readouterr()
        assert rc == 2
        for stream in (captured.out, captured.err):
            assert_clean(stream.encode(), "fix")
        assert "\\x1b]0;owned\\a [/] \\x1bc refused" in captured.out + captured.err
    assert (root / "etc/ha.d/authkeys").read_bytes() == OLD


def test_bundle_create_progress_shows_node_names_literally(tmp_path):
    from tests.bundle.test_bundle import SINCE, make_root

    root = make_root(tmp_path)
    with open(root / "etc/ha.d/ha.cf", "ab") as hacf:
        hacf.write(b"node evil\x1b]0;x\x07[/]\x1bc\n")
    cfg = tmp_path / "ssh_config"  # every other node unreachable at once: nothing leaves the machine
    cfg.write_text(f"Host *\n  HostName 127.0.0.1\n  Port 9\n  StrictHostKeyChecking yes\n"
                   f"  UserKnownHostsFile {tmp_path}/known\n")
    common = ["--root", root, "--ssh-config", cfg, "--timeout", "15", *SINCE]
    code, out, err = run_pipe("bundle", "create", "-o", tmp_path / "a.tar.gz", *common)
    assert code == 3
    assert_clean(out, "stdout"), assert_clean(err, "stderr")
    assert b"evil\\x1b]0;x\\a[/]\\x1bc: unreachable" in err
    tty_code, screen = run_tty("bundle", "create", "-o", tmp_path / "b.tar.gz", *common)
    assert tty_code == 3
    assert_clean(screen, "terminal")


EVIL = "peer\x1b]0;x\x07[/]\x1bc\x9b[link=file:///etc/passwd]y[/link]"


def test_probe_exchange_and_vip_text_show_fields_literally(capsys):
    """Their live runs need two hosts or raw sockets (tests/lab); the renderers alone get hostile data."""
    from hadoctor.probe.vip import HELD_TWICE, VipResult
    from hadoctor.report.probe_exchange import render_exchange
    from hadoctor.report.probe_vip import render_vip_results

    direction = {"from": "10.0.0.1", "to": EVIL, "state": EVIL, "sent": 5, "received": 0, "failed_auth": 0,
                 "loss": 1.0, "rtt_ms": {"p50": None, "p99": None}}
    doc = {"port": 19694, "interval_ms": 200, "seconds": 1.0, "directions": [direction],
           "verdict": {"text": f"nobody answers at {EVIL}"}, "notes": [EVIL], "exit_code": 1}
    assert render_exchange(doc, "text") == 1
    results = [VipResult("10.250.7.100", EVIL, ["b6:43:fe:cf:45:2b", "96:91:90:9f:12:6e"], HELD_TWICE,
                         owners={"b6:43:fe:cf:45:2b": EVIL}, detail=EVIL, prefix=24)]
    assert render_vip_results(results, "text") == 1
    out = capsys.readouterr().out
    assert_clean(out.encode(), "probe renderers")
    assert out.count("peer\\x1b]0;x\\a[/]\\x1bc\\x9b[link=file:///etc/passwd]y[/link]") >= 5
