"""MySQL replication in the real lab: MariaDB (Debian's mariadb-server) in both nodes' namespaces, node02
replicating from node01 (which holds the VIP), then broken: a row written on the replica and the same key
on the master (error 1062), then node01 loses power and node02 takes over. `check` run live inside node02
and on a bundle (node02 collected over the real sshd) must name each: MYS001 (SQL thread stopped by 1062,
the position) and MYS008 (takeover while stopped, by how many bytes of node01's binlog).

Each server has its datadir in the lab's work folder, its socket in the node's private /run and listens
on the node's own lab address (10.250.118.0/24); the mysql client in the node finds it through Debian's
/etc/mysql/debian.cnf, as on a real node."""

from __future__ import annotations

import json
import shutil
import sys
import tarfile
from pathlib import Path

import pytest

from .conftest import LAB_OK, LAB_WHY, SESSION_PREFIX
from .hblab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.skipif(not LAB_OK, reason=LAB_WHY or "lab"),
              pytest.mark.skipif(not shutil.which("mariadbd"), reason="needs Debian's mariadb-server (test.sh)")]

START = 45
#: this tree's hadoctor inside the node (nsenter -m starts in the node's /, not in this checkout)
HADOCTOR = ("env", f"PYTHONPATH={Path(__file__).resolve().parents[2]}", sys.executable, "-m", "hadoctor")
REPL_PW = "lab-repl-not-secret"


def sql(lab: Lab, node: str, statement: str, *flags: str) -> str:
    cp = lab.exec(node, "mariadb", "--defaults-file=/etc/mysql/debian.cnf", "--batch", *flags, "-e", statement,
                  timeout=30)
    assert cp.returncode == 0, f"{node}: {statement}: {cp.stderr.decode(errors='replace')}"
    return cp.stdout.decode()


def start_mariadb(lab: Lab, node: str, server_id: int) -> None:
    data = lab.node_dir(node) / "mysql"
    if not data.exists():
        cp = lab.exec(node, "mariadb-install-db", "--no-defaults", "--user=root", f"--datadir={data}",
                      "--auth-root-authentication-method=socket", timeout=120)
        assert cp.returncode == 0, cp.stderr.decode(errors="replace")
    lab.exec(node, "install", "-d", "-m", "0755", "/run/mysqld", check=True)
    lab.exec(node, "sh", "-c", f"setsid mariadbd --no-defaults --user=root --datadir={data} "
             f"--socket=/run/mysqld/mysqld.sock --bind-address={lab.ip(node)} --port=3306 "
             f"--server-id={server_id} --log-bin={data}/{node}-bin --pid-file=/run/mysqld/mysqld.pid "
             f"--log-error={data}/error.log </dev/null >/dev/null 2>&1 &", check=True)
    ok = lab.wait(lambda: lab.exec(node, "test", "-S", "/run/mysqld/mysqld.sock").returncode == 0, 60,
                  f"mariadbd on {node}")
    assert ok is not None, (data / "error.log").read_text(errors="replace")[-2000:]


def check_json(lab: Lab, node: str, *target: str) -> dict:
    cp = lab.exec(node, *HADOCTOR, "check", "--format", "json", "--select", "MYS", *target,
                  timeout=120)
    assert b"Traceback" not in cp.stderr and cp.stdout.startswith(b"{"), (cp.returncode, cp.stdout[:500],
                                                                         cp.stderr.decode(errors="replace")[-2000:])
    return json.loads(cp.stdout)


def failing(report: dict) -> dict:
    out: dict = {}
    for f in report["findings"]:
        if f["status"] == "fail":
            out.setdefault(f["code"], []).append(f)
    return out


def test_mysql_replication_broken_then_takeover(tmp_path):
    with Lab(f"{SESSION_PREFIX}my", subnet="10.250.118", second_nic=False) as lab:
        lab.configure()
        for i, node in enumerate(lab.nodes, start=1):
            start_mariadb(lab, node, i)
        file, pos = sql(lab, "node01", "SHOW MASTER STATUS", "-N").split("\t")[:2]
        sql(lab, "node01", f"CREATE USER repl@'%' IDENTIFIED BY '{REPL_PW}'; "
            "GRANT REPLICATION SLAVE ON *.* TO repl@'%'; CREATE DATABASE mor; "
            "CREATE TABLE mor.calls (id INT AUTO_INCREMENT PRIMARY KEY, src VARCHAR(20))")
        sql(lab, "node02", f"CHANGE MASTER TO MASTER_HOST='{lab.ip('node01')}', MASTER_USER='repl', "
            f"MASTER_PASSWORD='{REPL_PW}', MASTER_LOG_FILE='{file}', MASTER_LOG_POS={pos}; START SLAVE; "
            "SET GLOBAL read_only = ON")
        lab.start_all()
        assert lab.wait_holders(["node01"], START) is not None, "VIP on node01"
        assert lab.wait(lambda: "mor" in sql(lab, "node02", "SHOW DATABASES"), 30, "replicated") is not None
        healthy = failing(check_json(lab, "node02"))
        assert not healthy, healthy

        # a row written on the replica, then the same key on the master: error 1062 on node02
        sql(lab, "node02", "SET GLOBAL read_only = OFF; INSERT INTO mor.calls VALUES (1, 'local')")
        sql(lab, "node01", "INSERT INTO mor.calls (src) VALUES ('100'), ('101')")
        assert lab.wait(lambda: "1062" in sql(lab, "node02", "SHOW SLAVE STATUS\\G"), 30, "1062") is not None
        lab.crash("node01")
        assert lab.wait_log("node02", "mach_down takeover complete.", START) is not None

        live = failing(check_json(lab, "node02"))
        assert set(live) >= {"MYS001", "MYS008"}, live
        assert "error 1062" in live["MYS001"][0]["message"]
        assert "took over at" in live["MYS008"][0]["message"]

        # node01 back (without heartbeat), its server restarted; a bundle from node01, node02 over ssh
        lab.reboot("node01")
        start_mariadb(lab, "node01", 1)
        lab.start_sshd("node02")
        out = lab.node_dir("node01") / "mysql-bundle.tar.gz"
        cp = lab.exec("node01", *HADOCTOR, "bundle", "create", "-q", "-o", str(out),
                      "--ssh-config", str(lab.ssh_config), timeout=120)
        assert out.exists(), cp.stderr.decode(errors="replace")
        with tarfile.open(out) as tar:
            names = [m.name for m in tar.getmembers()]
            everything = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isreg())
        assert any(n.endswith("node02/mysql-slave-status.txt") for n in names), names
        assert REPL_PW.encode() not in everything
        bundled = failing(check_json(lab, "node01", str(out)))
        assert [f["node"] for f in bundled.get("MYS001", [])] == ["node02"], bundled
        (takeover,) = bundled["MYS008"]
        assert takeover["node"] == "node02"
        # node01's restart began a new binlog file: the finding compares files, or bytes in one file
        assert "node01's binlog" in takeover["message"], takeover["message"]
