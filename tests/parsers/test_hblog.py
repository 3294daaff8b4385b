"""Tests for hadoctor.parsers.hblog: layouts, continuation lines, years, rotation, limits, prefilter."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import json
import os
import random
import re
import sys
import tracemalloc
from datetime import datetime, timedelta
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hadoctor.errors import InputError
from hadoctor.parsers import hblog
from hadoctor.parsers.hblog import (
    LogRecord, compile_prefilter, iter_records, parse_hblog, parse_line,
)
from hadoctor.snapshot.logsource import find_log_files, iter_log, iter_log_file
from hadoctor.parsers.hblog_prefilter import Scanner, as_bytes_pattern, required_literals
from tests.conftest import corpus_params

REF = datetime(2026, 11, 25, 12, 0, 0)
LEVELS = {None, "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"}
LAYOUTS = {"syslog", "journal", "rfc3339", "tag-date", "date-tag", "tag", "bare", "stderr", "unknown"}
# patterns a rule set would look for (docs/heartbeat/logs.md: rejected packets, node death, timing, findif)
RULE_PATTERNS = [
    r"findif failed", r"Both machines own (our|foreign) resources", r"Invalid authentication", r"bad node \[",
    r"Late heartbeat", r"Gmain_timeout_dispatch", r"netstring authentication failed", r"failed authentication",
    r"node [^ ]+: is dead", r"Link \S+ dead", r"not in configuration", r"NV failure",
]


def physical_lines(data: bytes) -> list:
    """The file's lines as the parser keeps them (newline dropped, head cut to MAX_LOG_LINE)."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [line[:hblog.MAX_LOG_LINE] for line in lines]


def assert_covers(records: list, data: bytes) -> None:
    """Records are in file order and their lines (line .. line+nlines-1) are exactly the file's lines."""
    covered = set()
    last = 0
    for rec in records:
        assert rec.line >= last, (rec.line, last)
        assert rec.nlines >= 1
        covered.update(range(rec.line, rec.line + rec.nlines))
        last = rec.line
    assert covered == set(range(1, len(physical_lines(data)) + 1))


def filtered_full(data: bytes, prefilter, chunks, reference=REF) -> list:
    """What the prefiltered path must yield: full-parse records one of whose physical lines matches."""
    lines = physical_lines(data)
    return [r for r in iter_records(chunks, "f", reference=reference)
            if any(prefilter.search(lines[i - 1]) for i in range(r.line, r.line + r.nlines))]


def chunked(data: bytes, size: int) -> list:
    return [data[i:i + size] for i in range(0, len(data), size)] or [b""]


def one(data: bytes, **kw) -> list:
    return list(iter_records([data], "f", reference=kw.pop("reference", REF), **kw))


# --- corpus ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", corpus_params("logs"))
def test_corpus_file_parses_and_every_line_is_accounted_for(path):
    data = path.read_bytes()
    records = list(iter_log_file(str(path), reference=REF))
    assert_covers(records, data)
    for rec in records:
        assert isinstance(rec, LogRecord) and rec.file == str(path)
        assert rec.level in LEVELS and rec.layout in LAYOUTS
        assert rec.time is None or isinstance(rec.time, datetime)
        json.dumps(rec.to_dict())
    # only a few files are all prose; every other file is mostly understood
    unknown = sum(r.nlines for r in records if r.layout == "unknown")
    if path.name[:3] not in ("034",):
        assert unknown <= 3, [r.message for r in records if r.layout == "unknown"]


@pytest.mark.parametrize("path", corpus_params("logs"))
def test_corpus_prefilter_path_equals_filtered_full_path(path):
    data = path.read_bytes()
    rx = compile_prefilter(RULE_PATTERNS + [r"\binfo\b"])
    for size in (7, 4096):
        expected = filtered_full(data, rx, chunked(data, size))
        got = list(iter_records(chunked(data, size), "f", reference=REF, prefilter=rx))
        assert got == expected


# --- layouts: real lines (corpus file or docs/heartbeat/logs.md section in the comment) ------------------------

T = datetime
LAYOUT_CASES = [
    # docs/heartbeat/logs.md#the-daemon-writing-a-file (3.0.x, zero-padded day)
    (b"Nov 25 07:34:40 nodea heartbeat: [2129]: WARN: Logging daemon is disabled --enabling logging daemon is recommended",
     (T(2026, 11, 25, 7, 34, 40), "nodea", "heartbeat", None, 2129, "warn",
      "Logging daemon is disabled --enabling logging daemon is recommended", "syslog")),
    # docs/heartbeat/logs.md#shell-scripts (syslog, space-padded day, logger)
    (b"May  9 12:10:40 gw2 ResourceManager[26976]: info: Acquiring resource group: gw2 IPaddr2::1.2.3.4",
     (T(2026, 5, 9, 12, 10, 40), "gw2", "ResourceManager", None, 26976, "info",
      "Acquiring resource group: gw2 IPaddr2::1.2.3.4", "syslog")),
    # logs/026: single-digit day with one space
    (b"Feb 6 15:56:15 sp1 heartbeat: [8910]: ERROR: NV failure (msgfromsteam): [>>>#012]",
     (T(2026, 2, 6, 15, 56, 15), "sp1", "heartbeat", None, 8910, "error", "NV failure (msgfromsteam): [>>>#012]",
      "syslog")),
    # logs/015: ipfail
    (b"Jan 05 12:06:08 prodlb02 ipfail: [1698]: info: We are dead. :<",
     (T(2026, 1, 5, 12, 6, 8), "prodlb02", "ipfail", None, 1698, "info", "We are dead. :<", "syslog")),
    # logs/001: journald export
    (b"Feb 08 03:19:48 master1 heartbeat[38569]: [38569]: info: glib: ucast: set SO_REUSEADDR",
     (T(2026, 2, 8, 3, 19, 48), "master1", "heartbeat", None, 38569, "info", "glib: ucast: set SO_REUSEADDR",
      "journal")),
    # logs/028: heartbeat[pid] through syslog, "Aug  8"
    (b"Aug  8 06:28:54 nodeprod1 heartbeat[6743]: ERROR: process_status_message: bad node [nodearch2] in message",
     (T(2026, 8, 8, 6, 28, 54), "nodeprod1", "heartbeat", None, 6743, "error",
      "process_status_message: bad node [nodearch2] in message", "syslog")),
    # logs/024: syslog line of an OCF agent with its instance
    (b"Sep 12 15:41:06 node01 IPaddr2(prmIPaddr)[31269]: ERROR: [findif] failed",
     (T(2026, 9, 12, 15, 41, 6), "node01", "IPaddr2", "prmIPaddr", 31269, "error", "[findif] failed", "syslog")),
    # logs/030: a non-heartbeat daemon, no level
    (b"Aug 15 19:55:01 mail2 kernel: stuck on TLB IPI wait (CPU#3)",
     (T(2026, 8, 15, 19, 55, 1), "mail2", "kernel", None, None, None, "stuck on TLB IPI wait (CPU#3)", "syslog")),
    # docs/heartbeat/logs.md#the-daemon-writing-a-file: 2.x / syslogmsgfmt false
    (b"heartbeat[10236]: 2026/11/25_07:38:18 info: Configuration validated. Starting heartbeat 3.0.6",
     (T(2026, 11, 25, 7, 38, 18), None, "heartbeat", None, 10236, "info",
      "Configuration validated. Starting heartbeat 3.0.6", "tag-date")),
    # logs/031: logd double pid
    (b"harc[14349][14355]: 2009/12/01_14:52:00 info: Running /etc/ha.d/rc.d/status status",
     (T(2009, 12, 1, 14, 52, 0), None, "harc", None, 14349, "info", "Running /etc/ha.d/rc.d/status status",
      "tag-date")),
    # logs/003: 3.9 script shape with TAB and a full-path tag; ra_execocf's double space
    (b"/usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_172.30.105.201)[65273]:\t2018/02/09_01:05:43 INFO:  "
     b"Resource is stopped",
     (T(2018, 2, 9, 1, 5, 43), None, "IPaddr", "IPaddr_172.30.105.201", 65273, "info", "Resource is stopped",
      "tag-date")),
    # logs/009: an instance with slashes
    (b"/usr/lib/ocf/resource.d//heartbeat/Filesystem(Filesystem_/dev/drbd0)[3502]:\t2018/03/01_23:20:11 INFO:  "
     b"Running OK",
     (T(2018, 3, 1, 23, 20, 11), None, "Filesystem", "Filesystem_/dev/drbd0", 3502, "info", "Running OK",
      "tag-date")),
    # logs/016: no level word (ip-request-resp), spaces instead of TAB
    (b"ip-request-resp[32338]: 2012/02/19_13:45:42 received ip-request-resp IPaddr::192.168.3.103 OK yes",
     (T(2012, 2, 19, 13, 45, 42), None, "ip-request-resp", None, 32338, None,
      "received ip-request-resp IPaddr::192.168.3.103 OK yes", "tag-date")),
    # docs/heartbeat/logs.md#shell-scripts: resource-agents 4.x (two spaces, four spaces)
    (b"2026/11/25_07:36:14  ResourceManager(default)[6153]:    info: Acquiring resource group: nodea "
     b"10.77.0.100/24/eth1",
     (T(2026, 11, 25, 7, 36, 14), None, "ResourceManager", "default", 6153, "info",
      "Acquiring resource group: nodea 10.77.0.100/24/eth1", "date-tag")),
    (b"2026/11/25_07:36:15  /usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_10.77.0.100)[6191]:    INFO:  Running OK",
     (T(2026, 11, 25, 7, 36, 15), None, "IPaddr", "IPaddr_10.77.0.100", 6191, "info", "Running OK", "date-tag")),
    # logs/011: date then level, the tag cut off by the author
    (b"2018/02/28_03:12:44 ERROR: Return code 5 from /usr/local/heartbeat/etc/ha.d/resource.d/Filesystem",
     (T(2018, 2, 28, 3, 12, 44), None, None, None, None, "error",
      "Return code 5 from /usr/local/heartbeat/etc/ha.d/resource.d/Filesystem", "date-tag")),
    # docs/heartbeat/logs.md#ipaddr-and-findif excerpt: script line without its timestamp
    (b"ResourceManager(default)[9150]:    CRIT: Giving up resources due to failure of 192.0.2.50",
     (None, None, "ResourceManager", "default", 9150, "crit", "Giving up resources due to failure of 192.0.2.50",
      "tag")),
    # logs/012: prefix cut off
    (b"ERROR: Heartbeat not started: configuration error.",
     (None, None, None, None, None, "error", "Heartbeat not started: configuration error.", "bare")),
    # docs/heartbeat/logs.md#lines-that-are-not-records: stderr line
    (b"heartbeat: udpport setting must precede media statements",
     (None, None, "heartbeat", None, None, None, "udpport setting must precede media statements", "stderr")),
    # rsyslog RSYSLOG_FileFormat
    (b"2026-11-25T07:34:40.123456+01:00 nodea heartbeat: [2129]: info: Link nodeb:eth1 dead.",
     (T(2026, 11, 25, 7, 34, 40, 123456), "nodea", "heartbeat", None, 2129, "info", "Link nodeb:eth1 dead.",
      "rfc3339")),
]


@pytest.mark.parametrize("line,expected", LAYOUT_CASES, ids=[c[1][-1] + "-" + str(i) for i, c in
                                                              enumerate(LAYOUT_CASES)])
def test_layout_sample_parses_to_its_fields(line, expected):
    rec = parse_line(line, reference=REF)
    assert rec is not None
    assert (rec.time, rec.host, rec.component, rec.instance, rec.pid, rec.level, rec.message, rec.layout) == expected


@pytest.mark.parametrize("line", [
    # a netstring packet dump (docs/heartbeat/logs.md#rejected-packets)
    b"11:(0)t=status,8:(0)st=up,10:(0)dt=1f40,13:(0)protocol=1,12:(0)src=nodeb,%%%",
    b"42:1 6bbc6a1d,",                                             # its auth trailer
    b"] is invalid.",                                              # rest of "Auth line [..\n] is invalid."
    b"[...]",                                                      # logs/028
    b"Starting auto Xen domains: hejsan(skip) *   [done] ",         # logs/019, script stdout
    b"IPaddr::172.16.0.210/24/eth0 httpd",                         # logs/023, wrapped line
    b"Heartbeat [27330]: 2015/01/27 _ 09:05:29 ERROR: Message hist queue is filling up (500 messages in queue)",
    b"**ERROR: Current node [133] not in configuration!**",         # logs/014, markdown
    b"Starting High-Availability services: INFO: Resource is stopped",  # logs/020, init script
    b"",
    b"Foo 25 07:34:40 nodea heartbeat: [2129]: info: not a month",
])
def test_line_that_starts_no_record(line):
    assert parse_line(line, reference=REF) is None


@pytest.mark.parametrize("word,level", [
    ("WARN", "warn"), ("WARNING", "warn"), ("warning", "warn"), ("ERR", "error"), ("ERROR", "error"),
    ("CRIT", "crit"), ("CRITICAL", "crit"), ("INFO", "info"), ("info", "info"), ("notice", "notice"),
    ("EMERG", "emerg"), ("ALERT", "alert"), ("debug", "debug"), ("DEBUG", "debug"),
])
def test_level_words_are_normalised(word, level):
    rec = parse_line(f"Nov 25 07:34:40 nodea heartbeat: [2129]: {word}: the message".encode(), reference=REF)
    assert (rec.level, rec.message) == (level, "the message")


def test_a_word_that_is_not_a_level_stays_in_the_message():
    rec = parse_line(b"Nov 25 07:34:40 nodea heartbeat: [2129]: glib: ucast: started", reference=REF)
    assert (rec.level, rec.message) == (None, "glib: ucast: started")
    rec = parse_line(b"2026/11/25_07:36:14  harc(default)[2153]:    Status: odd", reference=REF)
    assert (rec.level, rec.message) == (None, "Status: odd")


def test_glued_stderr_messages_become_records_on_the_same_line():
    # logs/022: two stderr messages without newline, then the logfile line
    data = (b"heartbeat: udpport setting must precede media statementsheartbeat: baudrate setting must precede "
            b"media statementsheartbeat[2641]: 2016/10/18_13:44:36 info: Pacemaker support: false\n")
    recs = one(data)
    assert [(r.line, r.layout, r.message) for r in recs] == [
        (1, "stderr", "udpport setting must precede media statements"),
        (1, "stderr", "baudrate setting must precede media statements"),
        (1, "tag-date", "Pacemaker support: false")]
    assert recs[2].time == datetime(2016, 10, 18, 13, 44, 36)


def test_journal_line_wrapping_a_whole_log_line_gives_the_inner_record():
    # logs/006 line 2: journald captured heartbeat echoing its log line on stderr
    rec = parse_line(b"Feb 08 03:15:40 master1 heartbeat[38533]: Feb 08 03:15:40 master1 heartbeat: [38533]: "
                     b"ERROR: Illegal directive [ping] in /usr/local/heartbeat/etc/ha.d/ha.cf", reference=REF)
    assert (rec.level, rec.pid, rec.message) == ("error", 38533,
                                                 "Illegal directive [ping] in /usr/local/heartbeat/etc/ha.d/ha.cf")


def test_deeply_nested_line_does_not_recurse_without_bound():
    line = b"Jan 01 00:00:00 h x: " * 3000 + b"end"  # 63 KB: under the cap
    rec = parse_line(line, reference=REF)
    assert rec is not None and rec.message.endswith("end")


# --- multi-line records --------------------------------------------------------------------------------

UUID = b"\x9a\x0a\xff\x10\x00\xc3(\x0a\xfe\x01\x02\x03\x04\x05\x06\x07"   # raw bytes, two of them newlines
NETSTRING_DUMP = (
    b"Nov 25 07:40:12 nodeb heartbeat: [2130]: WARN: Invalid authentication [7] in message!\n"
    b"Nov 25 07:40:12 nodeb heartbeat: [2130]: ERROR: netstring authentication failed, s=###\n"
    b"11:(0)t=status,8:(0)st=up,10:(0)dt=1f40,13:(0)protocol=1,12:(0)src=nodec,27:(1)srcuuid=" + UUID +
    b",8:(0)seq=2,%%%\n"
    b"42:7 6270aa,, autotoken=7 6270aa,\n"
    b"Nov 25 07:40:12 nodeb heartbeat: [2130]: ERROR: MSG: Dumping message with 10 fields\n"
    b"Nov 25 07:40:12 nodeb heartbeat: [2130]: ERROR: MSG[0] : [t=status]\n"
)


def test_netstring_dump_with_binary_bytes_is_one_record():
    recs = one(NETSTRING_DUMP)
    assert [(r.line, r.nlines) for r in recs] == [(1, 1), (2, 5), (7, 1), (8, 1)]
    head = recs[1]
    assert head.level == "error" and head.message.startswith("netstring authentication failed, s=###\n11:(0)")
    assert UUID in head.message.encode("utf-8", "surrogateescape")
    assert head.message.endswith("autotoken=7 6270aa,")
    assert recs[2].message == "MSG: Dumping message with 10 fields"
    json.dumps(head.to_dict(), ensure_ascii=False)  # JSON-safe despite the raw bytes


def test_auth_line_message_with_its_newline_is_one_record():
    # docs/heartbeat/authkeys.md#errors: "Auth line [bogus line\n] is invalid." then the fatal summary
    data = (b"Nov 25 07:35:02 nodea heartbeat: [2145]: ERROR: Auth line [bogus line\n] is invalid.\n"
            b"Nov 25 07:35:02 nodea heartbeat: [2145]: ERROR: Authentication configuration error.\n")
    recs = one(data)
    assert [(r.line, r.nlines, r.message) for r in recs] == [
        (1, 2, "Auth line [bogus line\n] is invalid."), (3, 1, "Authentication configuration error.")]


def test_nv_failure_spanning_lines_and_blank_line():
    # logs/027
    data = (b"heartbeat[2194]: 2014/03/16_23:38:31 info: >>>\n\n"
            b"heartbeat[2194]: 2014/03/16_23:38:31 ERROR: NV failure (msgfromsteam): [>>>\n]\n"
            b"heartbeat[3113]: 2014/03/16_23:38:31 debug: req_our_resources() before fgets()\n")
    recs = one(data)
    assert [(r.line, r.nlines, r.message) for r in recs] == [
        (1, 2, ">>>"), (3, 2, "NV failure (msgfromsteam): [>>>\n]"), (5, 1, "req_our_resources() before fgets()")]


def test_lines_before_the_first_record_are_unknown_records():
    # logs/020
    data = (b"Starting High-Availability services: INFO: Resource is stopped\nHeartbeat failure [rc=6]. Failed.\n"
            b"heartbeat[2299]: 2016/10/18_11:55:43 ERROR: Configuration error, heartbeat not started.\n")
    recs = one(data)
    assert [(r.layout, r.message) for r in recs] == [
        ("unknown", "Starting High-Availability services: INFO: Resource is stopped"),
        ("unknown", "Heartbeat failure [rc=6]. Failed."),
        ("tag-date", "Configuration error, heartbeat not started.")]


def test_continuation_is_bounded_in_lines_then_unknown_records():
    extra = hblog.MAX_CONTINUATION_LINES + 5
    data = b"Nov 25 07:40:12 nodeb heartbeat: [2130]: ERROR: dump\n" + b"x\n" * extra
    recs = one(data)
    assert recs[0].nlines == 1 + hblog.MAX_CONTINUATION_LINES
    assert [r.layout for r in recs[1:]] == ["unknown"] * 5
    assert_covers(recs, data)


def test_continuation_is_bounded_in_bytes():
    piece = b"y" * 1000 + b"\n"
    count = hblog.MAX_CONTINUATION_BYTES // len(piece) + 3
    data = b"Nov 25 07:40:12 nodeb heartbeat: [2130]: ERROR: dump\n" + piece * count
    recs = one(data)
    assert (recs[0].nlines - 1) * len(piece) <= hblog.MAX_CONTINUATION_BYTES
    assert len(recs) == 1 + count - (recs[0].nlines - 1) and recs[-1].layout == "unknown"
    assert_covers(recs, data)


def test_crlf_lines():
    data = b"Nov 25 07:40:12 nodeb heartbeat: [2130]: info: Link nodea:eth1 up.\r\n"
    assert one(data)[0].message == "Link nodea:eth1 up."


# --- year inference --------------------------------------------------------------------------------------

def times(data: bytes, reference) -> list:
    return [r.time for r in one(data, reference=reference)]


def test_year_rolls_over_from_december_to_january():
    data = (b"Dec 31 23:59:58 nodea heartbeat: [1]: info: a\n"
            b"Jan 01 00:00:01 nodea heartbeat: [1]: info: b\n")
    assert times(data, datetime(2027, 1, 5)) == [datetime(2026, 12, 31, 23, 59, 58), datetime(2027, 1, 1, 0, 0, 1)]


def test_records_are_not_in_the_future_of_the_reference():
    data = b"Dec 01 10:00:00 nodea heartbeat: [1]: info: a\nNov 20 10:00:00 nodea heartbeat: [1]: info: b\n"
    assert times(data, datetime(2026, 11, 25)) == [datetime(2025, 12, 1, 10), datetime(2025, 11, 20, 10)]
    assert times(data[:46], datetime(2026, 12, 25)) == [datetime(2026, 12, 1, 10)]


def test_a_line_one_month_out_of_order_keeps_the_year():
    data = (b"2026/02/01_00:00:00  harc(default)[7]:    info: Running status\n"
            b"Jan 31 23:59:59 nodea heartbeat: [1]: info: late writer\n"
            b"Feb 01 00:00:01 nodea heartbeat: [1]: info: b\n")
    assert times(data, datetime(2030, 6, 1)) == [
        datetime(2026, 2, 1), datetime(2026, 1, 31, 23, 59, 59), datetime(2026, 2, 1, 0, 0, 1)]


def test_a_full_date_sets_the_year_also_for_earlier_year_less_lines():
    # logs/003: the file's mtime says nothing (copied in 2026); the scripts' lines say 2018
    data = (b"Feb 09 01:05:18 master1 heartbeat: [65190]: info: Link 172.30.105.254:172.30.105.254 up.\n"
            b"harc(default)[65199]:\t2018/02/09_01:05:32 info: Running /usr/local/heartbeat/etc/ha.d/rc.d/status\n"
            b"Feb 09 01:05:32 master1 heartbeat: [65190]: info: Comm_now_up(): updating status to active\n")
    assert [t.year for t in times(data, REF)] == [2018, 2018, 2018]


def test_a_later_full_date_resets_the_year():
    data = (b"2020/11/25_10:00:00  harc(default)[7]:    info: a\n"
            b"Nov 25 10:00:01 nodea heartbeat: [1]: info: b\n"
            b"2030/11/25_10:00:00  harc(default)[8]:    info: c\n"
            b"Nov 25 10:00:01 nodea heartbeat: [1]: info: same timestamp as b, other year\n"
            b"2031/03/01_00:00:00  harc(default)[8]:    info: e\n"
            b"Mar 01 00:00:05 nodea heartbeat: [1]: info: f\n")
    assert [t.year for t in times(data, REF)] == [2020, 2020, 2030, 2030, 2031, 2031]


def test_prefilter_starts_year_inference_at_the_files_first_record():
    # the file runs a few days past its reference month (clock skew): only the first record shows the year
    data = (b"Nov 30 10:00:00 nodea heartbeat: [1]: info: a\n"
            b"Dec 02 10:00:00 nodea heartbeat: [1]: WARN: Late heartbeat: Node nodeb: interval 6000 ms\n")
    ref = datetime(2025, 11, 28)
    rx = compile_prefilter(["Late heartbeat"])
    assert [r.time for r in one(data, reference=ref, prefilter=rx)] == [datetime(2025, 12, 2, 10)]
    assert times(data, ref)[1] == datetime(2025, 12, 2, 10)


def test_impossible_date_keeps_the_record_without_time():
    rec = parse_line(b"Feb 29 10:00:00 nodea heartbeat: [1]: info: leap", reference=datetime(2027, 3, 1))
    assert rec.time is None and rec.message == "leap"


# --- files: rotation, compression, truncation, long lines --------------------------------------------------

LOG_LINES = [
    b"Nov 25 07:34:40 nodea heartbeat: [2129]: info: Status update for node nodeb: status active\n",
    b"2026/11/25_07:36:14  ResourceManager(default)[6153]:    info: Acquiring resource group: nodea "
    b"10.77.0.100/24/eth1\n",
    b"Nov 25 07:34:41 nodea heartbeat: [2129]: WARN: Late heartbeat: Node nodeb: interval 6000 ms\n",
]


def test_rotated_files_are_read_oldest_first(tmp_path):
    base = tmp_path / "ha-log"
    (tmp_path / "ha-log.3.bz2").write_bytes(bz2.compress(LOG_LINES[0] * 2))
    (tmp_path / "ha-log.2.gz").write_bytes(gzip.compress(LOG_LINES[1] * 3))
    (tmp_path / "ha-log.1").write_bytes(LOG_LINES[2])
    base.write_bytes(LOG_LINES[0] + LOG_LINES[2])
    (tmp_path / "ha-log.old").write_bytes(b"x\n")
    (tmp_path / "other.log.1").write_bytes(b"x\n")
    files = find_log_files(str(base))
    assert [os.path.basename(f) for f in files] == ["ha-log.3.bz2", "ha-log.2.gz", "ha-log.1", "ha-log"]
    recs = list(iter_log(files, reference=REF))
    assert [(os.path.basename(r.file), r.line) for r in recs] == [
        ("ha-log.3.bz2", 1), ("ha-log.3.bz2", 2), ("ha-log.2.gz", 1), ("ha-log.2.gz", 2), ("ha-log.2.gz", 3),
        ("ha-log.1", 1), ("ha-log", 1), ("ha-log", 2)]
    assert recs[2].component == "ResourceManager" and recs[5].level == "warn"


def test_dated_rotation_and_missing_base(tmp_path):
    for name in ("ha-log-20261124.gz", "ha-log-20261120", "ha-log-20261122.bz2"):
        (tmp_path / name).write_bytes(b"")
    files = [os.path.basename(f) for f in find_log_files(str(tmp_path / "ha-log"))]
    assert files == ["ha-log-20261120", "ha-log-20261122.bz2", "ha-log-20261124.gz"]


def test_no_log_at_all_is_an_input_error(tmp_path):
    missing = str(tmp_path / "ha-log")
    assert find_log_files(missing) == [missing]
    with pytest.raises(InputError, match="no such file"):
        list(iter_log(find_log_files(missing)))


def test_truncated_gz_raises_input_error_after_the_records_read(tmp_path):
    data = b"".join(LOG_LINES[i % 3].replace(b"nodeb", b"n%07d" % i) for i in range(60000))
    packed = gzip.compress(data)
    path = tmp_path / "ha-log.2.gz"
    path.write_bytes(packed[: len(packed) // 2])
    got = []
    with pytest.raises(InputError, match="truncated"):
        for rec in iter_log_file(str(path), reference=REF):
            got.append(rec)
    assert len(got) > 1000
    assert got == list(iter_records([data], str(path), reference=REF))[:len(got)]


@pytest.mark.parametrize("use_prefilter", [False, True])
def test_ten_mib_line_is_cut_without_buffering_it(tmp_path, use_prefilter):
    long_line = b"Nov 25 07:34:40 nodea heartbeat: [2129]: ERROR: Late heartbeat " + b"z" * (10 << 20) + b"\n"
    path = tmp_path / "ha-log"
    path.write_bytes(LOG_LINES[0] + long_line + LOG_LINES[2])
    rx = compile_prefilter(["Late heartbeat"]) if use_prefilter else None
    tracemalloc.start()
    try:
        recs = list(iter_log_file(str(path), reference=REF, prefilter=rx))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 6 << 20  # 1 MiB blocks plus the kept head; never the 10 MiB line
    long_rec = recs[-2] if use_prefilter else recs[1]
    assert long_rec.truncated and long_rec.line == 2 and long_rec.level == "error"
    assert len(long_rec.message.encode()) <= hblog.MAX_LOG_LINE
    assert (recs[-1].line, recs[-1].truncated) == (3, False)


def test_line_longer_than_the_cap_inside_one_block_is_cut_too():
    data = LOG_LINES[0] + b"Nov 25 07:34:41 nodea heartbeat: [2129]: info: " + b"q" * (hblog.MAX_LOG_LINE * 2) + b"\n"
    recs = one(data)
    assert recs[1].truncated and len(recs[1].message) < hblog.MAX_LOG_LINE
    model = parse_hblog(data, "ha-log", reference=REF)
    assert [(p.line, p.severity) for p in model.problems] == [(2, "warning")]


# --- prefilter --------------------------------------------------------------------------------------------

def test_required_literals_of_a_rule_set():
    rx = compile_prefilter(["findif failed", r"Both machines own (our|foreign) resources", r"node [^ ]+: is dead"])
    assert sorted(required_literals(rx)) == [b": is dead", b"Both machines own ", b"findif failed"]


@pytest.mark.parametrize("patterns", [["(?i:late heartbeat)"], ["a|bc"], [r"\d+\s?ms"]])
def test_no_literal_set_falls_back_to_regex_scan(patterns):
    rx = compile_prefilter(patterns)
    assert required_literals(rx) is None
    buf = b"x\nWARN: Late Heartbeat: 6000 ms abc\ny\n"
    scanner = Scanner(rx)
    assert [(start, scanner.confirm(buf[start:buf.index(b"\n", start)], key))
            for start, key in scanner.candidates(buf, 0, len(buf))] == [(2, True)]


def test_prefilter_is_split_into_its_top_level_alternatives():
    from hadoctor.parsers.hblog_prefilter import _alternatives
    rx = compile_prefilter([r"Link [^|)]+ dead", r"a\|b(c|d)", "x"])
    assert _alternatives(rx) == [rb"(?:Link [^|)]{1,256} dead)", rb"(?:a\|b(c|d))", b"(?:x)"]
    assert _alternatives(compile_prefilter([r"(a)\1", "b"])) is None
    scanner = Scanner(compile_prefilter(["findif failed", r"Late heartbeat: Node \S+", "Late heartbeat"]))
    line = b"WARN: Late heartbeat: Node"  # holds the literal, but only the third alternative matches
    key = dict(scanner.candidates(line + b"\n", 0, len(line) + 1))[0]
    assert scanner.confirm(line, key)
    assert not scanner.confirm(b"ERROR: findif fail", key)


def test_str_prefilter_is_accepted():
    rx = as_bytes_pattern(re.compile(r"Late heartbeat"))
    assert isinstance(rx.pattern, bytes)
    data = b"".join(LOG_LINES)
    assert [r.line for r in iter_records([data], "f", reference=REF, prefilter=re.compile("Late heartbeat"))] == [3]


def test_prefilter_selects_a_record_by_its_continuation_line():
    rx = compile_prefilter([r"srcuuid="])
    assert [(r.line, r.nlines) for r in one(NETSTRING_DUMP, prefilter=rx)] == [(2, 5)]
    # and a record left open at a block boundary
    for size in range(1, 60, 7):
        assert [(r.line, r.nlines) for r in iter_records(chunked(NETSTRING_DUMP, size), "f", reference=REF,
                                                          prefilter=rx)] == [(2, 5)]


# --- properties --------------------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.integers(1, 300))
def test_random_bytes_never_raise_and_every_line_is_accounted_for(data, size):
    recs = list(iter_records(chunked(data, size), "f", reference=REF))
    assert_covers(recs, data)
    rx = compile_prefilter(["a", r"\x00", "heartbeat"])
    assert list(iter_records(chunked(data, size), "f", reference=REF, prefilter=rx)) == filtered_full(
        data, rx, chunked(data, size))
    parse_line(data)


SAMPLE_LINES = [case[0] for case in LAYOUT_CASES] + NETSTRING_DUMP.split(b"\n") + [
    b"", b"]", b"x" * 150, b"heartbeat: a setting must precede media statementsheartbeat: b",
    b"Dec 31 23:59:59 nodea heartbeat: [1]: CRIT: Late heartbeat: Node nodeb: interval 15020 ms (> deadtime)",
    b"Jan 01 00:00:01 nodea heartbeat: [1]: ERROR: Both machines own our resources!",
    b"\xff\xfe binary \x00 junk", b"Starting auto Xen domains: hejsan(skip) *   [done] ",
]


@st.composite
def mutated_logs(draw):
    lines = draw(st.lists(st.sampled_from(SAMPLE_LINES), max_size=40))
    out = []
    for line in lines:
        action = draw(st.integers(0, 9))
        if action == 0 and line:
            cut = draw(st.integers(0, len(line)))
            line = line[:cut]
        elif action == 1:
            pos = draw(st.integers(0, len(line)))
            line = line[:pos] + draw(st.binary(max_size=8)) + line[pos:]
        out.append(line)
    return b"\n".join(out) + draw(st.sampled_from([b"", b"\n", b"\r\n"]))


@settings(max_examples=150, deadline=None)
@given(mutated_logs(), st.integers(1, 200))
def test_mutated_logs_never_raise(data, size):
    recs = list(iter_records(chunked(data, size), "f", reference=REF))
    assert_covers(recs, data)


def _timeline_log(rng: random.Random, n: int):
    """Lines of every shape, binary and long ones, with a clock moving forward across a New Year.

    Returns the log and a reference like the file's mtime (just after the last line).
    """
    now = datetime(2025, 11, 1)
    out = []
    for _ in range(n):
        now += timedelta(seconds=rng.choice([0, 1, 3600, 86400 * rng.randint(0, 9)]))
        stamp = now.strftime("%b %d %H:%M:%S").encode()
        full = now.strftime("%Y/%m/%d_%H:%M:%S").encode()
        kind = rng.randrange(10)
        if kind < 3:
            out.append(stamp + b" nodea heartbeat: [2129]: " + rng.choice(
                [b"WARN: Late heartbeat: Node nodeb: interval 6000 ms", b"info: Link nodeb:eth1 dead.",
                 b"info: Status update for node nodeb: status active", b"ERROR: Both machines own our resources!"]))
        elif kind < 5:
            out.append(full + b"  IPaddr(IPaddr_192.0.2.50)[9238]:    " + rng.choice(
                [b"ERROR: /usr/libexec/heartbeat/findif failed [rc=1].", b"INFO:  Success"]))
        elif kind == 5:
            out.append(b"heartbeat[2299]: " + full + b" info: Link nodeb:eth1 up.")
        elif kind == 6:  # a dump: head plus continuation lines, some binary, some matching
            out.append(stamp + b" nodea heartbeat: [2130]: ERROR: netstring authentication failed, s=###")
            for _ in range(rng.randrange(0, 7)):
                out.append(rng.choice([b"11:(0)t=status,srcuuid=\x9a\xff", b"", b"42:1 abc,", b"Late heartbeat x",
                                       b"z" * rng.randrange(50, 130)]))
        elif kind == 7:
            out.append(rng.choice([b"[...]", b"Heartbeat failure [rc=6]. Failed.", b"Link x dead", b""]))
        elif kind == 8:  # glued stderr text: several records on one line, maybe continued
            out.append(b"heartbeat: udpport setting must precede media statementsheartbeat[1]: " + full +
                       rng.choice([b" ERROR: Late heartbeat glued", b" info: glued"]))
            out.extend(rng.choice([[], [b"Link x dead"], [b"", b"Link y dead"]]))
        else:
            out.append(b"ERROR: Current node [133] not in configuration!")
    return b"\n".join(out) + b"\n", now + timedelta(days=1)


PREFILTERS = [
    compile_prefilter(RULE_PATTERNS),
    # split into alternatives: "|" and ")" in classes, escaped parentheses, nested and repeated alternatives
    compile_prefilter([r"Link [^|)]+ dead", r"(?:Late|Early) heartbeat", r"\(rc=6\)|status active",
                       r"findif failed \[rc=\d+\]", r"findif failed", "srcuuid=", "srcuuid=",
                       r"Both machines own (?P<which>our|foreign) resources", r"netstring \S+ failed"]),
    compile_prefilter([r"(Late) heartbeat: Node \S+: interval \d+ ms", r"(x)\1dead"]),  # a backreference: unsplit
    compile_prefilter([r"Late heartbeat", "srcuuid"]),
    compile_prefilter([r"(?i:link \S+ DEAD)"]),      # no literal: regex scan
    compile_prefilter([r"^\[\.\.\.\]$", r"status$"], re.MULTILINE),
    compile_prefilter(["zzzz"]),
]


@contextlib.contextmanager
def small_limits(**limits):
    """Set the parser's limits in every module of it that reads them (each module binds the names it imports)."""
    modules = [m for name, m in sorted(sys.modules.items()) if name.startswith("hadoctor.parsers.hblog")]
    with contextlib.ExitStack() as stack:
        for name, value in limits.items():
            holders = [m for m in modules if hasattr(m, name)]
            assert holders, name
            for module in holders:
                stack.enter_context(mock.patch.object(module, name, value))
        yield


@settings(max_examples=160, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2 ** 32), st.integers(1, 400), st.integers(0, len(PREFILTERS) - 1),
       st.sampled_from([0, 60, 320, 10 ** 9]))
def test_prefilter_path_equals_full_path_filtered_by_the_same_regex(seed, size, which, dense):
    rng = random.Random(seed)
    data, mtime = _timeline_log(rng, rng.randrange(1, 120))
    rx = PREFILTERS[which]
    # small limits so that short examples cross them: long lines, continuation lines and bytes
    # dense: how often a block is parsed line by line (0 never, 10**9 whenever a line matches)
    with small_limits(MAX_LOG_LINE=100, MAX_CONTINUATION_LINES=3, MAX_CONTINUATION_BYTES=160,
                      LOOKAHEAD_BYTES=size * 3, DENSE_BYTES_PER_CANDIDATE=dense):
        expected = filtered_full(data, rx, chunked(data, size), reference=mtime)
        got = list(iter_records(chunked(data, size), "f", reference=mtime, prefilter=rx))
        assert_covers(list(iter_records(chunked(data, size), "f", reference=REF)), data)
    assert got == expected
