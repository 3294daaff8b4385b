"""The grep-backed prefilter path gives the records the in-process path gives (for big plain files)."""

from __future__ import annotations

import gzip

import pytest

from hadoctor.engine import discovery
from hadoctor.engine.runner import prefilter_for
from hadoctor.parsers import hblog
from hadoctor.snapshot import log_grep, logsource
from tests.conftest import corpus_files

PREFILTER = prefilter_for([r for r in discovery.all_rules() if r.is_log_rule])


def _records(path, monkeypatch, use_grep: bool):
    monkeypatch.setattr(log_grep, "GREP_FROM_BYTES", 0 if use_grep else 1 << 62)
    return [(r.line, r.time, r.host, r.component, r.pid, r.level, r.message.split("\n")[0])
            for r in logsource.iter_log_file(str(path), prefilter=PREFILTER)]


@pytest.mark.parametrize("path", corpus_files("logs"), ids=lambda p: p.name)
def test_grep_path_equals_in_process_path(path, monkeypatch):
    """Per corpus log: the same records, except (documented in log_grep) that a matching continuation
    line stands alone (layout unknown) instead of being attached to its head record."""
    if log_grep.shutil.which("grep") is None:
        pytest.skip("no grep on this machine")
    with_grep = _records(path, monkeypatch, True)
    without = _records(path, monkeypatch, False)
    extra = [r for r in with_grep if r not in without]
    missing = [r for r in without if r not in with_grep]
    for record in extra:  # a continuation line standing alone: no time, no host, no level
        assert record[1:6] == (None,) * 5, record
    for record in missing:  # the head record whose match was in a continuation line
        assert PREFILTER.search(record[-1].encode("utf-8", "surrogateescape")) is None, record
    assert extra or not missing  # a head record is replaced by its matching continuation line


def test_grep_is_used_only_for_big_plain_files(tmp_path, monkeypatch):
    plain = tmp_path / "ha-log"
    plain.write_bytes(b"Nov 25 07:40:01 n1 heartbeat: [1]: WARN: node n2: is dead\n")
    packed = tmp_path / "ha-log.1.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    monkeypatch.setattr(log_grep, "GREP_FROM_BYTES", 0)
    assert log_grep.grep_usable(str(plain), (b"dead",))
    assert not log_grep.grep_usable(str(packed), (b"dead",))
    monkeypatch.setattr(log_grep, "GREP_FROM_BYTES", 1 << 20)
    assert not log_grep.grep_usable(str(plain), (b"dead",))


def test_without_grep_falls_back(tmp_path, monkeypatch):
    path = tmp_path / "ha-log"
    path.write_bytes(b"Nov 25 07:40:01 n1 heartbeat: [1]: WARN: node n2: is dead\n" * 3)
    monkeypatch.setattr(log_grep, "GREP_FROM_BYTES", 0)
    monkeypatch.setattr(log_grep.shutil, "which", lambda name: None)
    assert [r.line for r in logsource.iter_log_file(str(path), prefilter=PREFILTER)] == [1, 2, 3]


def test_long_matching_line_is_cut(tmp_path, monkeypatch):
    path = tmp_path / "ha-log"
    path.write_bytes(b"Nov 25 07:40:01 n1 heartbeat: [1]: WARN: node n2: is dead " + b"x" * (3 << 20) + b"\n"
                     b"Nov 25 07:40:02 n1 heartbeat: [1]: WARN: node n3: is dead\n")
    monkeypatch.setattr(log_grep, "GREP_FROM_BYTES", 0)
    records = list(logsource.iter_log_file(str(path), prefilter=PREFILTER))
    assert [(r.line, r.truncated) for r in records] == [(1, True), (2, False)]
    assert len(records[0].message) <= hblog.MAX_LOG_LINE
