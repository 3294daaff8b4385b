"""Replication beside heartbeat's events in the timeline (hadoctor.timeline.replication)."""

from __future__ import annotations

import os
import time
from datetime import datetime

from hadoctor.timeline.build import build_timeline
from tests.parsers.test_mysql import MYSQL8
from tests.rules.test_log_rules import FAILOVER, hb

#: the heartbeat log's year comes from the file's mtime (never from today's date)
MTIME = time.mktime((2026, 11, 30, 12, 0, 0, 0, 0, -1))


def _node(folder, log_lines, files=None):
    folder.mkdir(parents=True)
    (folder / "ha.cf").write_text("node node01\nnode node02\nkeepalive 1\ndeadtime 10\n")
    (folder / "heartbeat.log").write_text("\n".join(log_lines) + "\n")
    os.utime(folder / "heartbeat.log", (MTIME, MTIME))
    for name, data in (files or {}).items():
        (folder / name).write_bytes(data)


def test_mysql_error_timestamps_sit_beside_the_takeover(tmp_path):
    """MySQL 8 says when each thread's last error happened (Last_SQL_Error_Timestamp 261125 07:20:01): the
    timeline puts it between node02's start and its takeover; the node's heartbeat history is unchanged."""
    start = hb("07:10:00", "info: Link node01:eth0 up.", node="node02")
    _node(tmp_path / "node02", [start] + FAILOVER, {"mysql-slave-status.txt": MYSQL8})
    _node(tmp_path / "plain" / "node02", [start] + FAILOVER)
    tl = build_timeline(str(tmp_path / "node02"))
    plain = build_timeline(str(tmp_path / "plain" / "node02"))
    try:
        events = [(ev.time, ev.kind, ev.subject) for _ts, ev in tl.events()]
        repl = [e for _ts, e in tl.events() if e.kind.startswith("repl_")]
        assert [(e.time, e.kind, e.subject) for e in repl] == [
            (datetime(2026, 11, 25, 7, 20, 1), "repl_error", "mysql SQL thread")]
        assert repl[0].detail.startswith("error 1062: ") and repl[0].detail.endswith("(SHOW SLAVE STATUS)")
        assert repl[0].file.endswith("mysql-slave-status.txt")
        kinds = [k for _t, k, _s in events]
        assert kinds.index("repl_error") < kinds.index("takeover_complete")
        assert [i.to_tuple() for i in tl.links] == [i.to_tuple() for i in plain.links]
        assert [n.last for n in tl.nodes] == [n.last for n in plain.nodes]   # not "last heard of"
    finally:
        tl.close()
        plain.close()


def test_events_outside_the_heartbeat_log_are_left_out(tmp_path):
    """A replication error before the node's first heartbeat event is history the timeline does not show."""
    _node(tmp_path / "node02", FAILOVER, {"mysql-slave-status.txt": MYSQL8})   # heartbeat's events start 07:24:45
    tl = build_timeline(str(tmp_path / "node02"))
    try:
        assert not [e for _ts, e in tl.events() if e.kind.startswith("repl_")]
    finally:
        tl.close()


MYSQL8_UTC_LOG = (b"2026-11-25T06:20:01.123456Z 12 [ERROR] [MY-010584] [Repl] Replica SQL for channel '': Worker 1 "
                  b"failed executing transaction 'ANONYMOUS' at source log binlog.000012, end_log_pos 4711; Could not "
                  b"execute Write_rows event on table mor.calls; Duplicate entry '7' for key 'calls.PRIMARY', "
                  b"Error_code: 1062\n")


def test_mysql8_utc_error_log_is_shifted_to_the_nodes_time(tmp_path):
    """MySQL 8 writes its error log in UTC (06:20:01Z); heartbeat's log is in the node's time, one hour east.
    With the collector's offset line the error sits at 07:20:01 node time, between node02's start and its
    takeover; without it, it stays at 06:20:01, says it is UTC, and falls before the heartbeat log's span."""
    start = hb("07:10:00", "info: Link node01:eth0 up.", node="node02")
    header = b"### /var/log/mysql/error.log (node time UTC+0100)\n"
    _node(tmp_path / "node02", [start] + FAILOVER, {"mysql-error-log.txt": header + MYSQL8_UTC_LOG})
    _node(tmp_path / "bare" / "node02", [hb("06:10:00", "info: Link node01:eth0 up.", node="node02")] + FAILOVER,
          {"mysql-error-log.txt": MYSQL8_UTC_LOG})
    tl = build_timeline(str(tmp_path / "node02"))
    bare = build_timeline(str(tmp_path / "bare" / "node02"))
    try:
        repl = [e for _ts, e in tl.events() if e.kind.startswith("repl_")]
        assert [(e.time, e.kind, e.subject) for e in repl] == [
            (datetime(2026, 11, 25, 7, 20, 1), "repl_error", "mysql SQL thread")]
        assert repl[0].detail.startswith("error 1062: ") and "(UTC in the log; node time UTC+01:00)" in repl[0].detail
        kinds = [e.kind for _ts, e in tl.events()]
        assert kinds.index("repl_error") < kinds.index("takeover_complete")
        unshifted = [e for _ts, e in bare.events() if e.kind.startswith("repl_")]
        assert [(e.time, e.detail.endswith("(time in UTC)")) for e in unshifted] == [
            (datetime(2026, 11, 25, 6, 20, 1), True)]
    finally:
        tl.close()
        bare.close()
