"""hadoctor.parsers.mysqllog on a real MariaDB 10.11 replica's error log (tests/fixtures/mysql/error-log-b.txt,
written by capture.sh's replica through every break: 1062, STOP SLAVE, MASTER_DELAY, equal server ids)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from hadoctor.parsers.mysqllog import parse_mysql_log
from tests.conftest import FIXTURES

LOG = FIXTURES / "mysql" / "error-log-b.txt"


def test_the_replicas_error_log_every_break():
    log = parse_mysql_log(LOG.read_bytes(), "error.log")
    assert not log.problems
    assert Counter(e.kind for e in log.entries) == {"started": 13, "stopped": 13, "error": 3}
    errors = [(e.time, e.thread, e.errno, e.line) for e in log.entries if e.kind == "error"]
    assert errors == [(datetime(2026, 12, 4, 4, 19, 56), "SQL", 1062, 27),
                      (datetime(2026, 12, 4, 4, 19, 56), "SQL", None, 29),   # "slave SQL thread aborted"
                      (datetime(2026, 12, 4, 4, 20, 9), "IO", 1593, 88)]
    stopped = next(e for e in log.entries if e.kind == "stopped")
    assert (stopped.thread, stopped.position, stopped.line) == ("SQL", "a-bin.000001:1432", 30)
    io_stop = next(e for e in log.entries if e.kind == "stopped" and e.thread == "IO")
    assert io_stop.position == "a-bin.000001:1663"      # "read up to log 'a-bin.000001', position 1663"
    assert all(not e.utc for e in log.entries)
    # InnoDB ("FTS optimize thread exiting"), startup and CHANGE MASTER notes are no replication event
    assert not any("InnoDB" in e.text or "CHANGE MASTER" in e.text for e in log.entries)


def test_mysql_8_and_5_0_times():
    """MySQL 8.0 writes ISO times in UTC by default (log_timestamps) and names the replica "Replica ... for
    channel"; MySQL 5.0/5.1 wrote YYMMDD and a space-padded hour."""
    log = parse_mysql_log(
        b"2026-11-25T07:20:01.123456Z 5 [ERROR] [MY-010584] [Repl] Replica SQL for channel '': Worker 1 failed "
        b"executing transaction; Error 'Duplicate entry' on query. Error_code: MY-001062\n"
        b"2026-11-25T07:20:01.123456Z 5 [System] [MY-010586] [Repl] Replica SQL thread for channel '' exiting, "
        b"replication stopped in log 'binlog.000002' at position 157\n"
        b"161125  7:20:01 [ERROR] Slave SQL: Error 'Duplicate entry' on query. Error_code: 1062\n"
        b"161125 27:20:01 [ERROR] Slave SQL: a time that is none\n", "err")
    first, second, old = log.entries
    assert (first.kind, first.errno, first.utc, first.time) == ("error", 1062, True, datetime(2026, 11, 25, 7, 20, 1))
    assert (second.kind, second.thread, second.position) == ("stopped", "SQL", "binlog.000002:157")
    assert (old.time, old.errno, old.utc) == (datetime(2016, 11, 25, 7, 20, 1), 1062, False)
    assert [(p.line, p.code) for p in log.problems] == [(4, "mysqllog-bad-time")]


def test_hostile_input_never_raises():
    for data in (b"", b"\x00\xff" * 1000, b"2026-01-01 00:00:00 1 [ERROR] Slave " + b"x" * 100000,
                 b"999999 99:99:99 [ERROR] Slave SQL: x\n"):
        parse_mysql_log(data, "x")
