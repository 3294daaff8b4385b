"""hadoctor.parsers.mysql on real MariaDB 10.11 output (tests/fixtures/mysql, captured by capture.sh) and on
MySQL 8.0's spelling (SHOW REPLICA STATUS: Replica_*/Source_* fields, multi-line GTID sets, channels)."""

from __future__ import annotations

import time

import pytest

from hadoctor.parsers.mysql import parse_master_status, parse_mycnf, parse_replica_status, parse_variables
from hadoctor.secrets import Secret
from tests.conftest import FIXTURES

MYSQL = FIXTURES / "mysql"


def status(name: str):
    return parse_replica_status((MYSQL / name).read_bytes(), name)


def test_running_replica_every_field():
    st = status("slave-status-running.txt")
    assert not st.problems and len(st.channels) == 1
    ch = st.channels[0]
    assert (ch.io_running, ch.sql_running, ch.seconds_behind) == ("Yes", "Yes", 0)
    assert ch.master_host == "127.0.0.1" and ch.master_port == 33061 and ch.master_server_id == 1
    assert ch.text("Replicate_Do_DB") == "" and ch.text("Using_Gtid") == "No"
    assert ch.text("Slave_SQL_Running_State") == "Slave has read all relay log; waiting for more updates"
    assert len(ch.fields) >= 50


def test_1062_duplicate_key():
    ch = status("slave-status-1062.txt").channels[0]
    assert (ch.io_running, ch.sql_running, ch.seconds_behind) == ("Yes", "No", None)
    assert ch.last_sql_errno == 1062 and ch.number("Last_Errno") == 1062
    assert ch.text("Last_SQL_Error").startswith("Error 'Duplicate entry '7' for key 'PRIMARY''")
    assert ch.stopped_at() == "a-bin.000001:1432" and ch.read_master_log_pos == 1663


def test_stopped_io_stopped_lag_same_id():
    stopped = status("slave-status-stopped.txt").channels[0]
    assert (stopped.io_running, stopped.sql_running, stopped.last_sql_errno) == ("No", "No", 0)
    io = status("slave-status-io-stopped.txt").channels[0]
    assert (io.io_running, io.sql_running) == ("No", "Yes")
    lag = status("slave-status-lag.txt").channels[0]
    assert lag.seconds_behind == 5403 and lag.number("SQL_Delay") == 7200
    same = status("slave-status-same-server-id.txt").channels[0]
    assert same.last_io_errno == 1593 and "equal MariaDB server ids" in same.text("Last_IO_Error")


def test_not_a_replica_and_all_slaves_form():
    assert status("slave-status-none.txt").channels == []
    multi = status("all-slaves-status.txt")
    assert len(multi.channels) == 1 and multi.channels[0].name == "" and "Connection_name" in multi.channels[0].fields
    assert multi.channels[0].text("Slave_SQL_State").startswith("Slave has read all relay log")


# MySQL 8.0.22+ SHOW REPLICA STATUS\G (field names and layout as in the MySQL 8.0 manual's example; two
# channels; the GTID set wraps onto a second line as the client prints it)
MYSQL8 = b"""\
*************************** 1. row ***************************
             Replica_IO_State: Waiting for source to send event
                  Source_Host: 10.250.0.2
                  Source_Port: 3306
              Source_Log_File: binlog.000012
          Read_Source_Log_Pos: 4711
        Relay_Source_Log_File: binlog.000012
           Replica_IO_Running: Yes
          Replica_SQL_Running: No
              Replicate_Do_DB: mor
                   Last_Errno: 1062
                   Last_Error: Coordinator stopped because there were error(s) in the worker(s).
          Exec_Source_Log_Pos: 4000
        Seconds_Behind_Source: NULL
               Last_SQL_Errno: 1062
               Last_SQL_Error: Worker 1 failed executing transaction 'ANONYMOUS' at source log binlog.000012
     Last_SQL_Error_Timestamp: 261125 07:20:01
           Retrieved_Gtid_Set: 3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5
            Executed_Gtid_Set: 3e11fa47-71ca-11e1-9e33-c80aa9429562:1-4,
4bd1a41c-71ca-11e1-9e33-c80aa9429562:1-3
                 Channel_Name: node01
*************************** 2. row ***************************
             Replica_IO_State: 
                  Source_Host: 10.250.0.9
           Replica_IO_Running: No
          Replica_SQL_Running: No
        Seconds_Behind_Source: NULL
                 Channel_Name: backup
"""


def test_mysql8_spelling_channels_and_continuations():
    st = parse_replica_status(MYSQL8, "mysql-slave-status.txt")
    assert not st.problems
    a, b = st.channels
    assert (a.name, a.io_running, a.sql_running, a.seconds_behind) == ("node01", "Yes", "No", None)
    assert a.master_host == "10.250.0.2" and a.exec_master_log_pos == 4000 and a.last_sql_errno == 1062
    assert a.text("Replicate_Do_DB") == "mor"  # 'Replicate' is not 'Replica'
    assert a.text("Executed_Gtid_Set").endswith(",\n4bd1a41c-71ca-11e1-9e33-c80aa9429562:1-3")
    assert a.text("Last_SQL_Error_Timestamp") == "261125 07:20:01"
    assert str(a.error_time()) == "2026-11-25 07:20:01" and b.error_time() is None
    assert (b.name, b.line, b.io_running) == ("backup", 22, "No")


@pytest.mark.parametrize("data", [
    b"ERROR 2002 (HY000): Can't connect to local server through socket '/run/mysqld/mysqld.sock' (2)\n",
    b"mysql: command not found\n",
])
def test_client_errors_are_problems(data):
    for parse in (parse_replica_status, parse_master_status, parse_variables):
        model = parse(data, "x")
        assert [p.code for p in model.problems] == ["mysql-client-error"]


@pytest.mark.parametrize("data", [b"\xff\xfe\x00garbage: \x00\n" * 3, b"a" * 70000, b"\r\n\r\n", b"***",
                                  b"Master_Host: x\n" + b" " * 5000 + b"x: y\n", b"|\t|\n"])
def test_hostile_input_never_raises(data):
    for parse in (parse_replica_status, parse_master_status, parse_variables, parse_mycnf):
        parse(data, "x").to_dict()


def test_field_regex_is_linear():
    data = b"A" * 60000 + b"\n" + b" " * 60000 + b"x\n" + (b"a:" * 30000) + b"\n"
    start = time.perf_counter()
    for parse in (parse_replica_status, parse_master_status, parse_variables, parse_mycnf):
        parse(data, "x")
    assert time.perf_counter() - start < 2.0


def test_master_status_forms():
    table = parse_master_status((MYSQL / "master-status-table.txt").read_bytes(), "t")
    vertical = parse_master_status((MYSQL / "master-status-vertical.txt").read_bytes(), "v")
    assert (table.file, table.position) == (vertical.file, vertical.position) == ("a-bin.000001", 1432)
    assert table.line == 2 and vertical.line == 2 and not table.problems and not vertical.problems
    assert parse_master_status(b"b-bin.000001\t839\t\t\n", "n").position == 839  # -N
    boxed = parse_master_status(b"+------+\n| File | Position |\n+--\n| x-bin.000003 | 77 |\n", "b")
    assert (boxed.file, boxed.position) == ("x-bin.000003", 77)
    off = parse_master_status((MYSQL / "master-status-nobin.txt").read_bytes(), "off")
    assert not off.logging and not off.problems


def test_variables_real_capture():
    v = parse_variables((MYSQL / "variables-a.txt").read_bytes(), "v")
    assert not v.problems and len(v.values) > 500
    assert v.number("server_id") == 1 and v.flag("log_bin") is True and v.get("binlog_format") == "MIXED"
    assert (v.number("auto_increment_increment"), v.number("auto_increment_offset")) == (2, 1)
    assert v.flag("read_only") is False and v.get("version").startswith("10.11")
    assert v.line("server_id") > 0
    b = parse_variables((MYSQL / "variables-b.txt").read_bytes(), "v")
    assert b.flag("read_only") is True and b.number("server_id") == 2
    nobin = parse_variables((MYSQL / "variables-b-nobin-offset1.txt").read_bytes(), "v")
    assert nobin.flag("log_bin") is False and nobin.number("auto_increment_offset") == 1


def test_variables_header_and_secret():
    v = parse_variables(b"Variable_name\tValue\nwsrep_sst_auth\tsst:Sup3rS3cret\nserver_id\t7\n", "v")
    assert v.get("wsrep_sst_auth") == "****" and v.number("server_id") == 7
    assert "Sup3rS3cret" not in repr(v.to_dict())


def test_mycnf_debian_layout_and_secrets():
    cnf = parse_mycnf((MYSQL / "my.cnf").read_bytes(), "my.cnf")
    assert ("!includedir", "/etc/mysql/conf.d/", 28) in cnf.includes and not cnf.problems
    server = parse_mycnf((MYSQL / "my.cnf.d" / "50-server.cnf").read_bytes(), "50-server.cnf")
    assert server.server_option("bind-address").value == "127.0.0.1"
    cnf.merge(server)
    assert cnf.server_option("expire-logs-days").value == "10" and cnf.files == ["my.cnf", "50-server.cnf"]
    secret = parse_mycnf(b"[client]\nuser = root\npassword = 'Sup3r S3cret' # root\n[mysqld]\nserver_id=3\n"
                         b"skip-log-bin\n", "c")
    pw = next(o for o in secret.options if o.name == "password")
    assert isinstance(pw.value, Secret) and pw.value.reveal() == "Sup3r S3cret"
    assert "Sup3r" not in repr(secret.to_dict()) and secret.server_option("skip_log_bin").value is None
    assert secret.server_option("server-id").value == "3"
    bad = parse_mycnf(b"password = leaked\n", "c")
    assert [p.code for p in bad.problems] == ["mycnf-bad-line"] and "leaked" not in repr(bad.problems)
