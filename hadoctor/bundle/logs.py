"""Which logs a bundle takes from a node, and trimming them to ``--since``/``--until``.

The logs are the ones ha.cf names (logfile, debugfile, logd.cf's, or the syslog files for the
facility), with their rotated and compressed siblings. Trimming happens here, not on the node, with
hadoctor's own log-time parsing, on each node's own local log time; syslog files keep only the
cluster's records.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Dict, List, Optional, Tuple

SYSLOG_DEFAULTS = ("/var/log/messages", "/var/log/syslog")
LOGD_DEFAULTS = ("/var/log/ha-log", "/var/log/ha-debug")
#: what a rotated sibling of a log adds to its name: ``.1``, ``-20261125``, then ``.gz``/``.bz2``
ROTATED_SUFFIX = r"(?:\.(\d+)|-(\d{8,}))(?:\.(?:gz|bz2))?"


def resolve_bound(bound, node_now: Optional[datetime]) -> Optional[datetime]:
    if bound is None:
        return None
    if isinstance(bound, timedelta):
        return (node_now or datetime.now()) - bound
    return bound  # type: ignore[return-value]


# --------------------------------------------------------------------------- logs

def log_targets(hacf, logd_text: bytes, syslog_conf: bytes) -> List[Tuple[str, str]]:
    """(path, why) of the logs heartbeat writes, from ha.cf (and logd.cf / the syslog config)."""
    targets: List[Tuple[str, str]] = []

    def add(path: Optional[str], why: str) -> None:
        if path and path != "/dev/null" and path.startswith("/") and path not in [t[0] for t in targets]:
            targets.append((path, why))

    def value(setting) -> Optional[str]:
        v = getattr(setting, "value", setting)
        return str(v) if v not in (None, "") else None

    facility = None
    uses_logd = False
    if hacf is not None:
        add(value(hacf.logfile), "ha.cf logfile")
        add(value(hacf.debugfile), "ha.cf debugfile")
        facility = value(hacf.logfacility)
        logd = hacf.use_logd
        explicit = bool(getattr(logd, "value", False)) if logd is not None else None
        uses_logd = explicit is True or (explicit is None and not targets and not facility)
    if uses_logd:
        conf = keyvalues(logd_text)
        add(conf.get("logfile", LOGD_DEFAULTS[0]), "logd.cf logfile" if "logfile" in conf else "ha_logd default")
        add(conf.get("debugfile", LOGD_DEFAULTS[1]), "logd.cf debugfile" if "debugfile" in conf
            else "ha_logd default")
        facility = conf.get("logfacility", facility or "daemon")
    if facility and facility != "none":
        for path in _syslog_destinations(syslog_conf, facility):
            add(path, f"syslog config for facility {facility}")
        for path in SYSLOG_DEFAULTS:
            add(path, f"syslog (facility {facility})")
        if facility == "daemon":
            add("/var/log/daemon.log", "syslog (facility daemon)")
    if not targets:
        add("/var/log/ha-log", "heartbeat default")
    return targets


def is_syslog_target(why: str) -> bool:
    """A log target that is a syslog file (shared with every other program), not heartbeat's own file."""
    return why.startswith("syslog")


def keyvalues(data: bytes) -> Dict[str, str]:
    out = {}
    for line in data.decode("utf-8", "replace").splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2:
            out[words[0].lower()] = words[1]
    return out


def _syslog_destinations(conf: bytes, facility: str) -> List[str]:
    """Files a syslogd/rsyslogd rule sends ``facility`` to (``local0.*  /var/log/ha.log``, ``-/path``)."""
    found = []
    for line in conf.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "$", "module", "input")):
            continue
        parts = line.split()
        if len(parts) < 2:
            continue
        selector, action = parts[0], parts[-1].lstrip("-")
        if not action.startswith("/") or action.startswith("/dev/"):
            continue
        for sel in selector.split(";"):
            facs, _, prio = sel.partition(".")
            if prio != "none" and facility in facs.split(","):
                found.append(action)
    return found


@dataclass
class TrimResult:
    read: int = 0          # lines in the file
    kept: int = 0          # lines written
    filtered: int = 0      # lines inside the window dropped by the record filter (another program's)


def trim_log(src: str, dst: str, since: Optional[datetime], until: Optional[datetime], mtime: float,
             keep: Optional[Callable] = None) -> TrimResult:
    """Copy the records of ``src`` whose log time lies in [since, until] to ``dst`` (gzip again when
    ``src`` was); undated lines go with the record before them, undated records before the first dated
    one with it (a file without any dated line is kept whole). ``keep(record)`` (True, False, or None:
    goes with the record before it), when given, filters the records too: a syslog file keeps only the
    cluster's.

    Streaming in constant memory: the parser reads the file once and a second reader of the same file
    follows it line by line, writing or skipping each record's lines as it is decided (the parser's
    records cover every line, in order)."""
    from hadoctor.inputs import open_stream, safe_chunks
    from hadoctor.parsers.hblog import iter_records

    reference = datetime.fromtimestamp(mtime)
    compressed = src.endswith(".gz") or src.endswith(".bz2")
    opener = (lambda p: gzip.open(p, "wb", compresslevel=6)) if compressed else (lambda p: open(p, "wb"))
    result = TrimResult()
    with open_stream(src) as parsed, open_stream(src) as raw, opener(dst) as out:
        lines = _lines(safe_chunks(raw, src))
        writer = _SpanWriter(lines, out, result)
        # undated records before the first dated one: (first line, last line, filter verdict), merged
        pending: List[List] = []
        inside: Optional[bool] = None      # the window verdict of the last dated record
        follows = keep is None             # the filter verdict of the last record with a tag
        for rec in iter_records(safe_chunks(parsed, src), src, reference=reference):
            first, last = rec.line, rec.line + rec.nlines - 1
            verdict = keep(rec) if keep is not None else True
            if verdict is None:
                verdict = follows
            follows = verdict
            if rec.time is None and inside is None:
                if pending and pending[-1][2] == verdict and first <= pending[-1][1] + 1:
                    pending[-1][1] = max(pending[-1][1], last)
                else:
                    pending.append([first, last, verdict])
                continue
            if rec.time is not None:
                now_inside = (since is None or rec.time >= since) and (until is None or rec.time <= until)
                if inside is None:
                    for p_first, p_last, p_verdict in pending:
                        writer.add(p_first, p_last, now_inside, p_verdict)
                    pending = []
                inside = now_inside
            writer.add(first, last, inside, verdict)
        for p_first, p_last, p_verdict in pending:        # no dated line at all: the window keeps all
            writer.add(p_first, p_last, True, p_verdict)
        writer.finish()
    os.utime(dst, (mtime, mtime))
    return result


class _SpanWriter:
    """Writes or skips the lines of consecutive records. Records that share a line (messages glued on
    one line) are merged: a line is kept when any of them is."""

    def __init__(self, lines, out, result: TrimResult) -> None:
        self.lines, self.out, self.result = lines, out, result
        self.next = 1              # the next line the reader gives
        self.span: Optional[List] = None   # [first, last, inside, verdict] not yet written

    def add(self, first: int, last: int, inside: bool, verdict: bool) -> None:
        span = self.span
        if span is not None and first <= span[1]:
            span[1] = max(span[1], last)
            span[2] = span[2] or inside
            span[3] = span[3] or verdict
            return
        self._flush()
        self.span = [first, last, inside, verdict]

    def _flush(self) -> None:
        if self.span is None:
            return
        first, last, inside, verdict = self.span
        self.span = None
        result = self.result
        while self.next <= last:
            raw = next(self.lines, None)
            if raw is None:
                return
            result.read += 1
            if self.next >= first and inside:
                if verdict:
                    self.out.write(raw)
                    result.kept += 1
                else:
                    result.filtered += 1
            self.next += 1

    def finish(self) -> None:
        self._flush()
        for _raw in self.lines:        # lines in no record (none expected): counted, not kept
            self.result.read += 1


def _lines(chunks):
    rest = b""
    for chunk in chunks:
        data = rest + chunk
        parts = data.split(b"\n")
        rest = parts.pop()
        for p in parts:
            yield p + b"\n"
    if rest:
        yield rest
