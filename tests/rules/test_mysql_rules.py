"""MYS rules on the real MariaDB outputs of tests/fixtures/mysql (capture.sh: two MariaDB 10.11 servers
replicating, broken on purpose). The captures ran on loopback ports; here the master's address becomes
node01's (10.250.0.2:3306), the only change made to them, except where a scenario says which one
value it edits."""

from __future__ import annotations

from typing import Dict, Optional

import pytest

from tests.conftest import FIXTURES
from tests.rules.scenario import assert_scenario, check, healthy_cluster
from tests.rules.test_log_rules import FAILOVER

MYS = [f"MYS00{i}" for i in range(1, 9)]


def cap(name: str, **edits: str) -> str:
    text = (FIXTURES / "mysql" / name).read_text()
    text = text.replace("127.0.0.1", "10.250.0.2").replace("33061", "3306")
    for old, new in edits.items():
        assert old.replace("__", "\t") in text, (name, old)
        text = text.replace(old.replace("__", "\t"), new.replace("__", "\t"))
    return text


def pair(node01: Optional[Dict[str, object]] = None, node02: Optional[Dict[str, object]] = None) -> dict:
    """node01 holds the VIP and is the master; node02 replicates from it (the healthy MOR pair)."""
    one = {"mysql-slave-status.txt": cap("slave-status-none.txt"),
           "mysql-master-status.txt": cap("master-status-table.txt"),
           "mysql-variables.txt": cap("variables-a.txt")}
    two = {"mysql-slave-status.txt": cap("slave-status-running.txt"),
           "mysql-master-status.txt": cap("master-status-b.txt"),
           "mysql-variables.txt": cap("variables-b.txt")}
    one.update(node01 or {})
    two.update(node02 or {})
    return healthy_cluster({"node01": one, "node02": two})


def log(*lines: str) -> str:
    return "\n".join(lines) + "\n"


SCENARIOS = [
    {"name": "master-slave replicating", "nodes": pair(), "quiet": MYS},
    {"name": "master-master interleaved", "nodes": pair(node01={
        "mysql-slave-status.txt": cap("slave-status-running.txt").replace("10.250.0.2", "10.250.0.3")}),
     "quiet": MYS},
    {"name": "duplicate key on the replica",
     "nodes": pair(node02={"mysql-slave-status.txt": cap("slave-status-1062.txt")}),
     "fires": {"MYS001": ["node02"], "MYS002": ["node02"]}, "quiet": ["MYS003", "MYS004", "MYS005", "MYS006",
                                                                     "MYS007", "MYS008"]},
    {"name": "replica stopped by hand",
     "nodes": pair(node02={"mysql-slave-status.txt": cap("slave-status-stopped.txt")}),
     "fires": {"MYS001": ["node02"]}, "quiet": ["MYS003", "MYS008"]},
    {"name": "replica IO thread stopped", "nodes": pair(
        node02={"mysql-slave-status.txt": cap("slave-status-io-stopped.txt")}), "fires": {"MYS001": ["node02"]}},
    {"name": "replica 90 minutes behind", "nodes": pair(node02={"mysql-slave-status.txt": cap("slave-status-lag.txt")}),
     "fires": {"MYS002": ["node02"]}, "quiet": ["MYS001", "MYS008"]},
    {"name": "same server_id", "nodes": pair(node02={"mysql-slave-status.txt": cap("slave-status-same-server-id.txt"),
                                                     "mysql-variables.txt": cap("variables-b-same-id.txt")}),
     "fires": {"MYS003": [None], "MYS001": ["node02"]}, "quiet": ["MYS004", "MYS005"]},
    {"name": "replica without binlog, master's offset", "nodes": pair(
        node02={"mysql-variables.txt": cap("variables-b-nobin-offset1.txt"),
                "mysql-master-status.txt": cap("master-status-nobin.txt")}),
     "fires": {"MYS005": ["node02"], "MYS004": [None]}, "quiet": ["MYS001", "MYS003"]},
    # one value edited: node02's read_only (the capture started it with --read-only)
    {"name": "replica writable", "nodes": pair(node02={"mysql-variables.txt": cap("variables-b.txt",
                                                                                   read_only__ON="read_only__OFF")}),
     "fires": {"MYS007": [None]}, "quiet": ["MYS001", "MYS004", "MYS005", "MYS006"]},
    {"name": "standby does not replicate",
     "nodes": pair(node02={"mysql-slave-status.txt": cap("slave-status-none.txt")}),
     "fires": {"MYS006": [None]}, "quiet": ["MYS007", "MYS001"]},
    {"name": "standby replicates from elsewhere", "nodes": pair(node02={
        "mysql-slave-status.txt": cap("slave-status-running.txt").replace("10.250.0.2", "10.250.0.99")}),
     "fires": {"MYS006": [None]}, "quiet": ["MYS001"]},
    {"name": "takeover while the replica was stopped", "nodes": pair(
        node01={"mysql-master-status.txt": cap("master-status-after-1062.txt")},
        node02={"mysql-slave-status.txt": cap("slave-status-1062.txt"), "heartbeat.log": log(*FAILOVER)}),
     "fires": {"MYS008": ["node02"], "MYS001": ["node02"]}},
    {"name": "takeover with replication running", "nodes": pair(node02={"heartbeat.log": log(*FAILOVER)}),
     "quiet": ["MYS008"]},
    {"name": "no MySQL", "nodes": healthy_cluster(), "quiet": MYS},
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_scenario(tmp_path, scenario):
    assert_scenario(tmp_path, scenario)


def _find(report, code):
    return [f for f in report.findings if f.code == code and f.status in ("fail", "info")]


def test_mys001_names_the_error_and_position(tmp_path):
    report = check(tmp_path, SCENARIOS[2]["nodes"], ["MYS001"])
    (f,) = _find(report, "MYS001")
    assert "error 1062" in f.message and "Duplicate entry '7'" in f.message
    assert "applied up to a-bin.000001:1432" in f.message and "read up to a-bin.000001:1663" in f.message
    assert f.evidence[0].file.endswith("mysql-slave-status.txt") and f.evidence[0].line == 1


def test_mys002_null_lag_is_info_when_stopped_and_lag_is_a_failure(tmp_path):
    (null,) = _find(check(tmp_path / "a", SCENARIOS[2]["nodes"], ["MYS002"]), "MYS002")
    assert null.status == "info" and "NULL" in null.message
    (lag,) = _find(check(tmp_path / "b", SCENARIOS[5]["nodes"], ["MYS002"]), "MYS002")
    assert lag.status == "fail" and "5403 s behind" in lag.message and "MASTER_DELAY 7200" in lag.message


def test_mys003_shows_both_ids_and_the_1593_error(tmp_path):
    (f,) = _find(check(tmp_path, SCENARIOS[6]["nodes"], ["MYS003"]), "MYS003")
    assert f.message == "server_id 1 on node01 and node02"
    assert any("1593" in (e.text or "") for e in f.evidence)


def test_mys004_names_the_shared_ids(tmp_path):
    (f,) = _find(check(tmp_path, SCENARIOS[7]["nodes"], ["MYS004"]), "MYS004")
    assert "both generate ids 1, 3, 5" in f.message


def test_mys008_says_how_far_behind(tmp_path):
    (f,) = _find(check(tmp_path, SCENARIOS[11]["nodes"], ["MYS008"]), "MYS008")
    assert "took over at" in f.message and "error 1062" in f.message
    assert "231 bytes of node01's binlog not applied (a-bin.000001:1432 .. 1663)" in f.message


def test_no_mysql_skips_with_the_reason(tmp_path):
    report = check(tmp_path, healthy_cluster(), MYS)
    skipped = {f.code: f.message for f in report.findings if f.status == "skip"}
    assert set(skipped) >= {"MYS001", "MYS002", "MYS005"}
    assert "mysql_replica" in skipped["MYS001"] and "not present" in skipped["MYS001"]


def test_shared_ids_arithmetic():
    from rules.mysql_replication import _shared_ids

    assert _shared_ids((2, 1), (2, 2)) == []
    assert _shared_ids((1, 1), (1, 1)) == [1, 2, 3]
    assert _shared_ids((2, 1), (3, 1)) == [1, 7, 13]
    assert _shared_ids((10, 1), (10, 2)) == []


def test_mys008_says_when_replication_stopped_before_the_takeover(tmp_path):
    """MySQL 8 names the time of the error (Last_SQL_Error_Timestamp): 4 min 45 s before node02 took over."""
    from tests.parsers.test_mysql import MYSQL8

    nodes = pair(node02={"mysql-slave-status.txt": MYSQL8.decode(), "heartbeat.log": log(*FAILOVER)})
    f, backup = _find(check(tmp_path, nodes, ["MYS008"]), "MYS008")
    assert "(connection 'node01')" in f.message and "(connection 'backup')" in backup.message
    assert "binlog is at" not in backup.message  # 10.250.0.9 is no node: nothing to compare with
    assert "stopped by its error at 2026-11-25 07:20:01, 4 min 45 s before the takeover" in f.message
    assert "node01's binlog is at a-bin.000001:1432, applied only up to binlog.000012:4000" in f.message
