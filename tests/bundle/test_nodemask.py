"""Masking on the node: the sed program generated from redact.CREDENTIAL_FORMS, run by the real GNU sed
(-E, and -r as an old GNU sed without -E gets it) and busybox sed, and the real collection scripts in a
real sh: no planted credential of any form leaves the node."""

from __future__ import annotations

import bz2
import gzip
import io
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from hadoctor.bundle import scripts
from hadoctor.bundle.nodemask import Untranslatable, ere, sed_program, sh_function
from hadoctor.bundle.redact import CREDENTIAL_FORMS, credential_forms
from hadoctor.framing import parse_output

#: every form, several spellings, quoted and long values, two URLs in a row (the second starts right after
#: the first one's '@')
PLANTED = [
    (b"register => 1001:PlantReg1:1001@sip.example.net/1001", b"PlantReg1"),
    (b"  REGISTER=>tls://bob:PlantReg2@pbx.example:5061", b"PlantReg2"),
    (b"register => alice:PlantIax3@iax.example.net", b"PlantIax3"),
    (b"url=mysql://mor:PlantUrl4@db/mor", b"PlantUrl4"),
    (b"a http://u:PlantUrl5@h://v:PlantUrl6@x", b"PlantUrl5"),
    (b"a http://u:PlantUrl5@h://v:PlantUrl6@x", b"PlantUrl6"),
    (b"secret = PlantSec7 ; x", b"PlantSec7"),
    (b"md5secret=PlantMd58", b"PlantMd58"),
    (b"password = \"Plant Quoted 9\"", b"Plant Quoted 9"),
    (b"Password='PlantSingle10', next", b"PlantSingle10"),
    (b"PASSWD: PlantColon11", b"PlantColon11"),
    (b"passwort=PlantDe12&x=1", b"PlantDe12"),
    (b"db_pass=PlantDb13,", b"PlantDb13"),
    (b"pwd => PlantPwd14\r", b"PlantPwd14"),
    (b"secret=Plant" + b"9" * 3000 + b"End15", b"End15"),
    (b"login ok user=bob password=Plant\xff\xfe16 from 10.0.0.1", b"Plant\xff\xfe16"),
]
TEXT = b"\n".join(line for line, _ in PLANTED) + b"\nno secret here: passwords are good\n"


SEDS = {"GNU sed -E": ["sed", "-E"], "GNU sed -r": ["sed", "-r"], "busybox sed -E": ["busybox", "sed", "-E"]}


def _sed(cmd, data: bytes) -> bytes:
    proc = subprocess.run([*cmd, "-e", sed_program()], input=data, capture_output=True, timeout=60,
                          env=dict(os.environ, LC_ALL="C"))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_program_is_the_table():
    """One sed command per credential form, in the table's order, each with the secret replaced."""
    lines = sed_program().rstrip("\n").split("\n")  # (a class holds a CR: no splitlines)
    assert len(lines) == len(CREDENTIAL_FORMS)
    for line, (_what, rx) in zip(lines, CREDENTIAL_FORMS):
        assert line.startswith("s") and line.endswith("g") and "\\1****\\" in line
        assert line[2:].startswith(ere(rx.pattern, rx.flags) + line[1])  # s, delimiter, the ERE, delimiter


@pytest.mark.parametrize("name", sorted(SEDS))
def test_every_planted_credential_is_masked_by_each_sed(name):
    cmd = SEDS[name]
    if not shutil.which(cmd[0]):
        pytest.skip(f"{cmd[0]} is not installed (test.sh installs busybox): {name} not tested")
    out = _sed(cmd, TEXT)
    for _line, secret in PLANTED:
        assert secret not in out, (name, secret)
    assert not list(credential_forms(out)), out
    assert out.endswith(b"no secret here: passwords are good\n")  # the rest as it was
    assert out.count(b"\n") == TEXT.count(b"\n")


def test_the_sh_function_picks_sed_r_where_sed_has_no_E(tmp_path):
    """An old GNU sed (CentOS 5's 4.1.5) knows -r only: a sed refusing -E stands in for it."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "sed").write_text('#!/bin/sh\nfor a; do [ "$a" = -E ] && { echo "sed: invalid option -- E" >&2; '
                              f'exit 1; }}; done\nexec {shutil.which("sed")} "$@"\n')
    (fake / "sed").chmod(0o755)
    script = sh_function() + 'echo "$HD_MASK" >&2; hd_mask\n'
    env = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}")
    proc = subprocess.run(["sh", "-c", script], input=TEXT, capture_output=True, env=env, timeout=60)
    assert proc.stderr.strip() == b"sed -r" and proc.returncode == 0
    assert not list(credential_forms(proc.stdout)) and b"PlantSec7" not in proc.stdout


@pytest.mark.parametrize("pattern", [
    rb"pass=(\w+?)x",            # a lazy repeat
    rb"pass=(?=a)(\w+)",         # a lookahead
    rb"pass=([^,]+)",            # a class that crosses a line end (sed sees one line)
    rb"(a)(b)",                  # two groups
    rb"pass=\d(\d{1,300})",      # a repeat past RE_DUP_MAX
])
def test_what_ere_cannot_say_is_refused(pattern):
    with pytest.raises(Untranslatable):
        ere(pattern)


# ------------------------------------------------------------------ the collection scripts, on the node side

def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    for d in ("etc/ha.d", "etc/asterisk", "var/log"):
        (root / d).mkdir(parents=True)
    (root / "etc/ha.d/ha.cf").write_bytes(b"logfile /var/log/ha-log\nnode a\nnode b\n# db " + PLANTED[3][0] + b"\n")
    (root / "etc/ha.d/haresources").write_bytes(b"a 10.250.1.100 # " + PLANTED[6][0] + b"\n")
    (root / "etc/ha.d/authkeys").write_bytes(b"auth 1\n1 sha1 keykeykey\n")
    (root / "etc/ha.d/nodeinfo").write_bytes(b"a\n")
    (root / "etc/logd.cf").write_bytes(b"# " + PLANTED[10][0] + b"\n")
    (root / "etc/asterisk/sip.conf").write_bytes(b"[general]\n" + b"\n".join(p for p, _ in PLANTED[:3]) + b"\n")
    (root / "etc/asterisk/iax.conf").write_bytes(TEXT)
    (root / "etc/hosts").write_bytes(b"127.0.0.1 localhost # " + PLANTED[4][0] + b"\n")
    (root / "var/log/ha-log").write_bytes(TEXT)
    (root / "var/log/ha-log.1.gz").write_bytes(gzip.compress(TEXT))
    (root / "var/log/ha-log.2.bz2").write_bytes(bz2.compress(TEXT))
    for f in (root / "var/log").iterdir():
        os.utime(f, (1_700_000_000, 1_700_000_000))
    return root


def _leaks(data: bytes):
    return [secret for _, secret in PLANTED if secret in data] + [w for _, w in credential_forms(data)]


def test_inventory_leaves_the_node_masked(tmp_path):
    root = _root(tmp_path)
    proc = subprocess.run(["sh", "-s"], input=scripts.inventory_script(str(root)).encode(),
                          capture_output=True, timeout=60)
    out = parse_output(proc.stdout)
    assert out.files["masking"].strip() == b"sed -E"
    for name in ("ha.cf", "haresources", "logd.cf"):
        assert out.status[name] == "0" and not _leaks(out.files[name]), (name, out.files[name])
    assert b"node a" in out.files["ha.cf"] and b"keykeykey" in out.files["authkeys"]  # fingerprinted here


def test_collection_stream_leaves_the_node_masked(tmp_path, monkeypatch):
    root = _root(tmp_path)
    (root / "etc/cmd-out").write_bytes(b"conn mysql://u:PlantCmd99@db\n")
    (root / "etc/cmd-err").write_bytes(b"password=PlantErr98\n")
    # a command's output and error (the item runs with the root as $1)
    planted_cmd = ("planted", "planted.txt", "", 'cat "$1/etc/cmd-out"; cat "$1/etc/cmd-err" >&2; exit 3')
    monkeypatch.setattr(scripts, "COMMANDS", scripts.COMMANDS + (planted_cmd,))
    files = [("hosts", "/etc/hosts"), ("services/sip.conf", "/etc/asterisk/sip.conf"),
             ("services/iax.conf", "/etc/asterisk/iax.conf")]
    script = scripts.collect_script(str(root), stamp=None, log_bases=["/var/log/ha-log"], files=files,
                                    command_timeout=20, compress=False)
    proc = subprocess.run(["sh", "-s"], input=script.encode(), capture_output=True, timeout=120)
    seen = {}
    with tarfile.open(fileobj=io.BytesIO(proc.stdout), mode="r|") as tar:
        for info in tar:
            if info.isreg():
                data = tar.extractfile(info).read()
                seen[info.name] = (data, info.mtime)
    names = set(seen)
    rel = str(root).lstrip("/")
    assert {f"{rel}/etc/hosts", f"{rel}/etc/asterisk/sip.conf", f"{rel}/etc/asterisk/iax.conf",
            f"{rel}/var/log/ha-log", f"{rel}/var/log/ha-log.1.gz", f"{rel}/var/log/ha-log.2.bz2",
            "out/planted.txt", "meta", "logs"} <= names
    for name, (data, _mtime) in seen.items():
        if name.endswith(".gz") or name.endswith(".bz2"):
            assert data[:2] == b"\x1f\x8b", name  # decompressed, masked, gzip again (bz2 too)
            data = gzip.decompress(data)
            assert data.count(b"\n") == TEXT.count(b"\n")
        assert not _leaks(data) and b"PlantCmd99" not in data and b"PlantErr98" not in data, (name, data[:300])
    for log in ("ha-log", "ha-log.1.gz", "ha-log.2.bz2"):
        assert seen[f"{rel}/var/log/{log}"][1] == 1_700_000_000  # the log's own time: year inference needs it
    assert b"unmasked" not in seen["logs"][0]
    assert re.search(rb"^planted\tplanted.txt\terror\t3\t", seen["meta"][0], re.M)


def test_what_the_node_cannot_mask_is_sent_as_it_is_and_said(tmp_path):
    """An xz log (no decompressor of ours): sent untouched, listed as unmasked; the collector then masks."""
    root = _root(tmp_path)
    (root / "var/log/ha-log.3.xz").write_bytes(b"\xfd7zXZ\x00 not really")
    script = scripts.collect_script(str(root), stamp=None, log_bases=["/var/log/ha-log"], files=[],
                                    command_timeout=20, compress=False)
    proc = subprocess.run(["sh", "-s"], input=script.encode(), capture_output=True, timeout=120)
    with tarfile.open(fileobj=io.BytesIO(proc.stdout), mode="r|") as tar:
        got = {i.name: tar.extractfile(i).read() for i in tar if i.isreg()}
    rel = str(root).lstrip("/")
    assert got[f"{rel}/var/log/ha-log.3.xz"] == b"\xfd7zXZ\x00 not really"
    assert f"unmasked\t{root}/var/log/ha-log.3.xz".encode() in got["logs"]


def test_inventory_items_say_why_they_are_missing(tmp_path):
    """A file not there, a file not readable (a folder here: root reads any file), a node whose output was cut
    inside a frame: each item says which, and nothing half-read passes for the file."""
    root = _root(tmp_path)
    (root / "etc/logd.cf").unlink()
    (root / "etc/ha.d/nodeinfo").unlink()
    (root / "etc/ha.d/nodeinfo").mkdir()
    proc = subprocess.run(["sh", "-s"], input=scripts.inventory_script(str(root)).encode(),
                          capture_output=True, timeout=60)
    out = parse_output(proc.stdout)
    assert scripts.inventory_item(out, "logd.cf") == ("missing", b"no such file")
    assert scripts.inventory_item(out, "nodeinfo") == ("error", b"not readable")
    assert scripts.inventory_item(out, "uname")[0] == "ok"
    cut = proc.stdout[:proc.stdout.index(b"@file authkeys\n") + 30]
    status, why = scripts.inventory_item(parse_output(cut), "authkeys")
    assert status == "error" and b"truncated" in why
