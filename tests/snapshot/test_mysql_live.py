"""MySQL data from a real MariaDB server: the live loader and a bundle's sh collector both ask it through the
mysql client with the node's own client configuration (here a ~/.my.cnf in a temporary HOME naming the
server's socket and a password), and neither stores the credential.

Needs Debian's mariadb-server (test.sh installs it, never enabled); the server runs on a temporary
datadir and socket, with networking off."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from tests.bundle.test_bundle import HADOCTOR, make_root

PASSWORD = "Cl1entPw-never-stored"
pytestmark = pytest.mark.skipif(not (shutil.which("mariadbd") and shutil.which("mariadb-install-db")),
                                reason="needs Debian's mariadb-server (test.sh installs it)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mysql")
    data, sock, home = tmp / "data", tmp / "sock", tmp / "home"
    user = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(["mariadb-install-db", "--no-defaults", *user, f"--datadir={data}",
                    "--auth-root-authentication-method=normal"], check=True, capture_output=True, timeout=120)
    proc = subprocess.Popen(["mariadbd", "--no-defaults", *user, f"--datadir={data}", f"--socket={sock}",
                             "--skip-networking", "--server-id=42", f"--log-bin={data}/n1-bin",
                             f"--pid-file={tmp}/pid", f"--log-error={tmp}/err.log"])
    for _ in range(100):
        if sock.exists():
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("mariadbd did not start: " + (tmp / "err.log").read_text())
    client = shutil.which("mariadb") or shutil.which("mysql")
    subprocess.run([client, "--no-defaults", "-uroot", f"--socket={sock}", "-e",
                    f"SET PASSWORD FOR root@localhost = PASSWORD('{PASSWORD}')"], check=True, timeout=30)
    home.mkdir()
    (home / ".my.cnf").write_text(f"[client]\nuser = root\npassword = {PASSWORD}\nsocket = {sock}\n")
    os.chmod(home / ".my.cnf", 0o600)
    yield home
    proc.terminate()
    proc.wait(timeout=60)


def test_live_loader_asks_the_server_with_the_nodes_client_config(server, monkeypatch, tmp_path):
    from hadoctor.snapshot.loader import load_live

    monkeypatch.setenv("HOME", str(server))
    node = load_live(str(tmp_path)).nodes[0]
    variables, master, replica = (node.get(n) for n in ("mysql_variables", "mysql_master", "mysql_replica"))
    assert variables.number("server_id") == 42 and variables.flag("log_bin") is True
    assert master.file == "n1-bin.000001" and master.position and master.position > 0
    assert replica.channels == [] and not replica.problems  # not a replica: an empty answer, not missing data
    for name in ("mysql_variables", "mysql_master", "mysql_replica"):
        assert PASSWORD not in node.source(name)
    assert not node.has("my_cnf") and "no /etc/my.cnf or /etc/mysql/my.cnf" in node.data["my_cnf"].missing


def test_live_error_log_is_the_one_the_server_names(server, monkeypatch):
    """log_error (the fixture's server writes it in its temporary folder): read at that path, not a usual one."""
    from hadoctor.snapshot.loader import load_live

    monkeypatch.setenv("HOME", str(server))
    client = shutil.which("mariadb") or shutil.which("mysql")
    sql = [client, "--batch", "-e"]
    # a replica of nothing (port 9 on loopback): its IO thread starts, fails to connect and says so
    subprocess.run(sql + ["CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=9, MASTER_USER='x', "
                          "MASTER_CONNECT_RETRY=1; START SLAVE"], check=True, timeout=30, env=dict(os.environ))
    try:
        for _ in range(100):
            node = load_live("/", only=("mysql_log",)).nodes[0]
            log = node.get("mysql_log")
            if any(e.kind == "error" for e in log.entries):
                break
            time.sleep(0.1)
    finally:
        subprocess.run(sql + ["STOP SLAVE; RESET SLAVE ALL"], check=True, timeout=30, env=dict(os.environ))
    assert not log.problems and {"started", "error"} <= {e.kind for e in log.entries}, log.entries
    error = next(e for e in log.entries if e.kind == "error")
    assert error.thread == "IO" and error.errno == 2003, error  # can't connect to server on '127.0.0.1'


def test_live_my_cnf_reads_the_include_folders_below_root(tmp_path):
    from hadoctor.snapshot.loader import load_live

    (tmp_path / "etc/mysql/conf.d").mkdir(parents=True)
    (tmp_path / "etc/mysql/my.cnf").write_text("[mysqld]\nserver-id = 1\n!includedir /etc/mysql/conf.d/\n")
    (tmp_path / "etc/mysql/conf.d/replication.cnf").write_text("[mysqld]\nserver-id = 7\npassword = x\n")
    (tmp_path / "etc/mysql/debian.cnf").write_text("[client]\npassword = DebianCnfPw\n")
    cnf = load_live(str(tmp_path), only=("my_cnf",)).nodes[0].get("my_cnf")
    assert cnf.files == ["/etc/mysql/my.cnf", "/etc/mysql/conf.d/replication.cnf"]
    opt = cnf.server_option("server_id")
    assert (opt.value, opt.file, opt.line) == ("7", "/etc/mysql/conf.d/replication.cnf", 2)  # the included file wins
    assert "DebianCnfPw" not in repr(cnf.to_dict())


def test_bundle_collects_mysql_and_my_cnf_masked(server, tmp_path):
    root = make_root(tmp_path)
    (root / "etc/mysql/conf.d").mkdir(parents=True)
    (root / "etc/mysql/my.cnf").write_text("[client]\npassword = MyCnfPw-masked\n[mysqld]\nserver-id = 42\n"
                                           "!includedir /etc/mysql/conf.d/\n")
    (root / "etc/mysql/conf.d/replication.cnf").write_text("[mysqld]\nlog-bin = n1-bin\npassword=Inc1udedPw\n")
    (root / "etc/mysql/debian.cnf").write_text("[client]\npassword = DebianCnfPw\n")
    out = tmp_path / "b.tar.gz"
    env_home = dict(os.environ, HOME=str(server))
    proc = _hd_env(env_home, "bundle", "create", "-q", "--root", root, "--node", "node01", "-o", out)
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(out) as tar:
        files = {m.name.split("/", 1)[1]: tar.extractfile(m).read() for m in tar.getmembers() if m.isreg()}
    everything = b"".join(files.values())
    for secret in (PASSWORD, "MyCnfPw-masked", "Inc1udedPw", "DebianCnfPw"):
        assert secret.encode() not in everything, secret
    assert b"server_id\t42" in files["node01/mysql-variables.txt"]
    assert files["node01/mysql-master-status.txt"].startswith(b"File\tPosition")
    assert b"server-id = 42" in files["node01/my.cnf"]
    assert b"### /etc/mysql/conf.d/replication.cnf\n[mysqld]\nlog-bin = n1-bin" in files["node01/my.cnf"]
    assert not any("debian.cnf" in name for name in files) and b"debian.cnf" not in files["node01/my.cnf"]
    check = _hd_env(env_home, "check", "--format", "json", "--select", "MYS", out)
    assert "Traceback" not in check.stderr
    findings = [f for f in json.loads(check.stdout)["findings"] if f["code"].startswith("MYS")]
    assert any(f["code"] == "MYS005" for f in findings)  # judged: the bundle's variables were read
    assert not [f for f in findings if f["status"] == "skip" and f["code"] in ("MYS001", "MYS002", "MYS005")]


def _hd_env(env, *args):
    env = dict(env, NO_COLOR="1", COLUMNS="200")
    return subprocess.run(HADOCTOR + [str(a) for a in args], capture_output=True, text=True, env=env, timeout=180)


def test_access_denied_is_failed_with_the_clients_error_live_and_in_a_bundle(server, tmp_path, monkeypatch):
    """A server that is there but refuses the node's credentials: failed (not absent), with the client's error."""
    from hadoctor.datums import FAILED
    from hadoctor.snapshot.loader import load_bundle, load_live

    home = tmp_path / "home"
    home.mkdir()
    cnf = (server / ".my.cnf").read_text().replace(PASSWORD, "wrong-password")
    (home / ".my.cnf").write_text(cnf)
    env = dict(os.environ, HOME=str(home))
    monkeypatch.setenv("HOME", str(home))
    live = load_live(str(tmp_path)).nodes[0].data["mysql_variables"]
    assert live.kind == FAILED and "ERROR 1045 (28000): Access denied for user 'root'@'localhost'" in live.missing
    assert "not installed" not in live.missing
    out = tmp_path / "b.tar.gz"
    proc = _hd_env(env, "bundle", "create", "-q", "--root", make_root(tmp_path), "--node", "node01", "-o", out)
    assert proc.returncode == 0, proc.stderr
    datum = load_bundle(str(out)).nodes[0].data["mysql_variables"]
    assert datum.kind == FAILED and "ERROR 1045 (28000): Access denied" in datum.missing, datum
    check = _hd_env(env, "check", "--format", "json", "--select", "MYS005", out)
    skip = [f for f in json.loads(check.stdout)["findings"] if f["code"] == "MYS005"][0]
    assert skip["status"] == "skip" and "ERROR 1045" in skip["message"] and "not installed" not in skip["message"]


def test_mysql_defaults_file_option_live_and_bundle(server, tmp_path):
    """--mysql-defaults-file: credentials from a file outside the usual places (HOME has no .my.cnf); the client
    gets it as --defaults-extra-file; the password never reaches argv, the report or the bundle."""
    creds = tmp_path / "secret" / "hadoctor-mysql.cnf"
    creds.parent.mkdir()
    creds.write_text((server / ".my.cnf").read_text())
    os.chmod(creds, 0o600)
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home))
    root = make_root(tmp_path)
    without = _hd_env(env, "snapshot", "--format", "json", "--root", root)
    plain = json.loads(without.stdout)["nodes"][0]["data"]["mysql_variables"]
    # no credentials: the client tries the usual socket, where no server runs
    assert plain["missing_kind"] == "absent" and "MySQL is not installed/running" in plain["missing"], plain
    snap = _hd_env(env, "snapshot", "--format", "json", "--root", root, "--mysql-defaults-file", creds)
    node = json.loads(snap.stdout)["nodes"][0]["data"]
    assert node["mysql_variables"]["missing"] is None and node["mysql_master"]["missing"] is None, node
    check = _hd_env(env, "check", "--format", "json", "--select", "MYS005", "--root", root,
                    "--mysql-defaults-file", creds)
    found = [f for f in json.loads(check.stdout)["findings"] if f["code"] == "MYS005"]
    assert found and found[0]["status"] != "skip", found
    assert PASSWORD not in snap.stdout + check.stdout + check.stderr
    out = tmp_path / "b.tar.gz"
    proc = _hd_env(env, "bundle", "create", "-q", "--root", root, "--node", "node01", "-o", out,
                   "--mysql-defaults-file", creds)
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(out) as tar:
        files = {m.name.split("/", 1)[1]: tar.extractfile(m).read() for m in tar.getmembers() if m.isreg()}
    assert b"server_id\t42" in files["node01/mysql-variables.txt"]
    assert PASSWORD.encode() not in b"".join(files.values())
    verify = _hd_env(env, "bundle", "verify", "--secret", PASSWORD, out)
    assert verify.returncode == 0, verify.stdout
