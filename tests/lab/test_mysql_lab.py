"""MySQL replication in the real lab: MariaDB (Debian's mariadb-server) in both nodes' namespaces, node02
replicating from node01 (which holds the VIP), then broken in turn: the replica stopped by hand, the same
server_id on both (error 1593), a row written on the replica and the same key on the master (error 1062),
then node01 loses power and node02 takes over. For each break `check` runs live inside node02 and on a
bundle made on node01 (node02 collected over the real sshd), and must name it: MYS001 (a thread stopped,
the error, the position), MYS003 (equal server ids: the bundle sees both nodes), MYS008 (takeover while
stopped, by how many bytes of node01's binlog). `timeline` on the last bundle shows node02's 1062 beside its
takeover. Every finding is printed (``FIGURE`` lines, pytest -s); HADOCTOR_LAB_KEEP=DIR keeps the bundles.

Each server has its datadir in the lab's work folder, its socket in the node's private /run and listens
on the node's own lab address (10.250.118.0/24); the mysql client in the node finds it through Debian's
/etc/mysql/debian.cnf, as on a real node."""

from __future__ import annotations

import json
import os
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


def bundle(lab: Lab, name: str) -> Path:
    out = lab.node_dir("node01") / f"mysql-{name}.tar.gz"
    cp = lab.exec("node01", *HADOCTOR, "bundle", "create", "-q", "-o", str(out),
                  "--ssh-config", str(lab.ssh_config), timeout=120)
    assert out.exists(), cp.stderr.decode(errors="replace")
    keep = os.environ.get("HADOCTOR_LAB_KEEP")
    if keep:
        shutil.copy(out, Path(keep) / out.name)
    return out


def measured(lab: Lab, what: str) -> tuple:
    """check live in node02 and on a bundle made on node01: the failing MYS findings of each, printed."""
    live = failing(check_json(lab, "node02"))
    out = bundle(lab, what.replace(" ", "-"))
    bundled = failing(check_json(lab, "node01", str(out)))
    for where, found in (("live node02", live), ("bundle", bundled)):
        for code, findings in sorted(found.items()) or [("-", [{"node": "-", "message": "no MYS finding"}])]:
            for f in findings:
                print(f"FIGURE {what} | {where} | {code} {f['node']} | {f['message']}")
    return live, bundled, out


def replicating(lab: Lab) -> bool:
    status = sql(lab, "node02", "SHOW SLAVE STATUS\\G")
    return "Slave_IO_Running: Yes" in status and "Slave_SQL_Running: Yes" in status


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
        lab.start_sshd("node02")
        assert lab.wait_holders(["node01"], START) is not None, "VIP on node01"
        assert lab.wait(lambda: "mor" in sql(lab, "node02", "SHOW DATABASES"), 30, "replicated") is not None
        live, bundled, _ = measured(lab, "healthy")
        assert not live and not bundled, (live, bundled)

        # the replica stopped by hand
        sql(lab, "node02", "STOP SLAVE")
        live, bundled, _ = measured(lab, "replica stopped")
        for found in (live, bundled):
            assert [f["node"] for f in found.get("MYS001", [])] == ["node02"], found
            assert "stopped by hand" in found["MYS001"][0]["message"]
        sql(lab, "node02", "START SLAVE")
        assert lab.wait(lambda: replicating(lab), 30, "replication restarted") is not None

        # the same server_id on both: node02's IO thread refuses node01 (1593)
        sql(lab, "node02", "SET GLOBAL server_id = 1; STOP SLAVE; START SLAVE")
        assert lab.wait(lambda: "1593" in sql(lab, "node02", "SHOW SLAVE STATUS\\G"), 30, "1593") is not None
        live, bundled, _ = measured(lab, "same server_id")
        assert "1593" in live["MYS001"][0]["message"], live
        assert bundled["MYS003"][0]["message"] == "server_id 1 on node01 and node02", bundled
        sql(lab, "node02", "STOP SLAVE; SET GLOBAL server_id = 2; START SLAVE")
        assert lab.wait(lambda: replicating(lab), 30, "replication restarted") is not None

        # a row written on the replica, then the same key on the master: error 1062 on node02
        sql(lab, "node02", "SET GLOBAL read_only = OFF; INSERT INTO mor.calls VALUES (1, 'local')")
        sql(lab, "node01", "INSERT INTO mor.calls (src) VALUES ('100'), ('101')")
        assert lab.wait(lambda: "1062" in sql(lab, "node02", "SHOW SLAVE STATUS\\G"), 30, "1062") is not None
        live, bundled, _ = measured(lab, "duplicate key")
        for found in (live, bundled):
            assert "error 1062" in found["MYS001"][0]["message"], found
        lab.crash("node01")
        assert lab.wait_log("node02", "mach_down takeover complete.", START) is not None

        live = failing(check_json(lab, "node02"))
        assert set(live) >= {"MYS001", "MYS008"}, live
        assert "error 1062" in live["MYS001"][0]["message"]
        assert "took over at" in live["MYS008"][0]["message"]
        for code in ("MYS001", "MYS008"):
            print(f"FIGURE takeover while stopped | live node02 | {code} node02 | {live[code][0]['message']}")

        # node01 back (without heartbeat), its server restarted; a bundle from node01, node02 over ssh
        lab.reboot("node01")
        start_mariadb(lab, "node01", 1)
        _, bundled, out = measured(lab, "takeover while stopped")
        with tarfile.open(out) as tar:
            names = [m.name for m in tar.getmembers()]
            everything = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isreg())
        assert any(n.endswith("node02/mysql-slave-status.txt") for n in names), names
        assert any(n.endswith("node02/mysql-error-log.txt") for n in names), names
        assert REPL_PW.encode() not in everything
        assert [f["node"] for f in bundled.get("MYS001", [])] == ["node02"], bundled
        (takeover,) = bundled["MYS008"]
        assert takeover["node"] == "node02"
        # node01's restart began a new binlog file: the finding compares files, or bytes in one file
        assert "node01's binlog" in takeover["message"], takeover["message"]

        # the timeline: node02's replication stopped by 1062, then node02 took over
        cp = lab.exec("node01", *HADOCTOR, "timeline", "--format", "json", str(out), timeout=120)
        events = [e for e in json.loads(cp.stdout)["events"] if e["node"] == "node02"]
        kinds = [(e["kind"], e["detail"]) for e in events]
        error = next(i for i, e in enumerate(events) if e["kind"] == "repl_error" and "1062" in e["detail"])
        took = max(i for i, e in enumerate(events) if e["kind"] == "takeover_complete")
        assert error < took, kinds
        for e in events[error:took + 1]:
            print(f"FIGURE timeline | bundle | {e['time']} {e['node']} {e['kind']} {e['subject']} | {e['detail']}")
