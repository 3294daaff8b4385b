"""A node without MySQL against one whose MySQL failed: the first makes the MYS rules skip with "MySQL is not
installed/running on NODE" (the datum is absent), the second keeps the client's own error (failed). Each input:
a node folder (the file holds what the client printed), the live host (a PATH without a client, a socket
nobody serves) and a bundle (its manifest's item). The server-side failures (access denied) are in
test_mysql_live.py, which runs a real mariadbd."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from hadoctor.datums import ABSENT, FAILED
from tests.bundle.test_bundle import HADOCTOR, make_root
from tests.conftest import FIXTURES

MYSQL_FILES = ("mysql-slave-status.txt", "mysql-master-status.txt", "mysql-variables.txt")
DOWN = "ERROR 2002 (HY000): Can't connect to local server through socket '/run/mysqld/mysqld.sock' (2)\n"
DENIED = "ERROR 1045 (28000): Access denied for user 'root'@'localhost' (using password: YES)\n"


def _pair(tmp_path: Path, node02_text: str) -> Path:
    """The lab capture's two nodes, node02's MySQL files replaced by what its client printed."""
    target = tmp_path / "pair"
    shutil.copytree(FIXTURES / "mysql" / "lab-takeover", target)
    for name in MYSQL_FILES:
        (target / "node02" / name).write_text(node02_text)
    return target


def _check(target, env=None) -> dict:
    proc = subprocess.run(HADOCTOR + ["check", "--format", "json", "--select", "MYS", str(target)],
                          capture_output=True, text=True, timeout=180, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def test_folder_without_mysql_is_absent_and_the_rules_say_why(tmp_path):
    from hadoctor.snapshot.loader import load_target

    target = _pair(tmp_path, DOWN)
    node = load_target(str(target)).node("node02")
    for name in ("mysql_replica", "mysql_master", "mysql_variables"):
        datum = node.data[name]
        assert datum.kind == ABSENT and datum.missing.startswith("MySQL is not installed/running on node02: "
                                                                 "ERROR 2002"), datum
    skips = [f for f in _check(target)["findings"] if f["node"] == "node02" and f["status"] == "skip"]
    assert {f["code"] for f in skips} >= {"MYS001", "MYS002", "MYS005"}
    assert all("MySQL is not installed/running on node02" in f["message"] for f in skips), skips


def test_folder_with_a_refused_client_is_failed_with_its_error(tmp_path):
    from hadoctor.snapshot.loader import load_target

    node = load_target(str(_pair(tmp_path, DENIED))).node("node02")
    datum = node.data["mysql_replica"]
    assert datum.kind == FAILED and "ERROR 1045 (28000): Access denied for user 'root'@'localhost'" in datum.missing
    assert "not installed" not in datum.missing
    # not an empty SHOW SLAVE STATUS (which would mean "no replica" and let MYS001 pass)
    assert not node.has("mysql_replica")


def _path_without_mysql(tmp_path: Path) -> str:
    """A PATH holding every tool of this host but a mysql or mariadb client."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for folder in ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            if name.startswith(("mysql", "mariadb")) or (bin_dir / name).exists():
                continue
            (bin_dir / name).symlink_to(os.path.join(folder, name))
    return str(bin_dir)


def test_live_without_a_client_is_absent(tmp_path, monkeypatch):
    from hadoctor.snapshot.loader import load_live

    monkeypatch.setenv("PATH", _path_without_mysql(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    node = load_live(str(tmp_path)).nodes[0]
    for name in ("mysql_replica", "mysql_master", "mysql_variables"):
        datum = node.data[name]
        assert (datum.kind, datum.missing) == (
            ABSENT, f"MySQL is not installed/running on {node.name}: no mysql or mariadb client on PATH"), datum
    assert node.data["my_cnf"].kind == ABSENT and node.data["mysql_log"].kind == ABSENT


@pytest.mark.skipif(not (shutil.which("mysql") or shutil.which("mariadb")), reason="needs a mysql client")
def test_live_with_no_server_behind_the_socket_is_absent(tmp_path, monkeypatch):
    from hadoctor.snapshot.loader import load_live

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".my.cnf").write_text(f"[client]\nsocket = {tmp_path}/no-such.sock\n")
    node = load_live(str(tmp_path)).nodes[0]
    datum = node.data["mysql_variables"]
    assert datum.kind == ABSENT, datum
    assert datum.missing.startswith(f"MySQL is not installed/running on {node.name}: ERROR 2002 (HY000)"), datum
    assert f"through socket '{tmp_path}" in datum.missing  # the client's own words (it cuts a long path)


def test_bundle_without_a_client_says_not_installed(tmp_path):
    root = make_root(tmp_path)
    out = tmp_path / "b.tar.gz"
    env = dict(os.environ, PATH=_path_without_mysql(tmp_path), HOME=str(tmp_path), NO_COLOR="1")
    proc = subprocess.run(HADOCTOR + ["bundle", "create", "-q", "--root", str(root), "--node", "node01",
                                      "-o", str(out)], capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(out) as tar:
        manifest = json.load(tar.extractfile(next(m for m in tar.getmembers() if m.name.endswith("manifest.json"))))
    items = {i["name"]: i for i in manifest["nodes"]["node01"]["items"]}
    assert items["mysql variables"]["status"] == "not available", items["mysql variables"]
    from hadoctor.snapshot.loader import load_bundle

    node = load_bundle(str(out)).nodes[0]
    datum = node.data["mysql_variables"]
    assert (datum.kind, datum.missing) == (ABSENT, "MySQL is not installed/running on node01: "
                                                   "no mysql or mariadb client on PATH"), datum
    skip = [f for f in _check(out, env)["findings"] if f["code"] == "MYS005"]
    assert skip and skip[0]["status"] == "skip" and "MySQL is not installed/running on node01" in skip[0]["message"]


def test_a_status_quoting_a_client_error_is_a_result(tmp_path):
    """A replica whose IO thread keeps failing quotes the connect error inside a field: that is its status
    (MYS001 reads it), not the client failing."""
    from hadoctor.snapshot.loader import load_target

    target = _pair(tmp_path, "")
    status = (FIXTURES / "mysql" / "slave-status-io-stopped.txt").read_text()
    status = status.replace("Last_IO_Error: ", "Last_IO_Error: ERROR 2003 (HY000): ", 1)
    assert "Last_IO_Error: ERROR 2003 (HY000): " in status
    (target / "node02" / "mysql-slave-status.txt").write_text(status)
    node = load_target(str(target)).node("node02")
    assert node.has("mysql_replica") and node.get("mysql_replica").channels
