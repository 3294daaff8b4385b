"""Has ha.cf changed since the running heartbeat last read it? (docs/heartbeat/authkeys.md#reloading)

A SIGHUP (what ``heartbeat -r`` sends) makes the master compare ha.cf's ``st_mtime`` (whole seconds)
with the one it recorded when it read the file (``config->cfg_time``, set in ``parse_config``): if they
differ it does not just reread authkeys but performs a full restart (``Heartbeat restart triggered.``,
``Performing heartbeat restart exec.``, an exec with ``-R``). A key rotation on a node whose ha.cf was
edited and never reloaded would therefore restart heartbeat there in the middle of the switch window,
applying the pending edit as a side effect. ``fix --authkeys`` refuses that before changing anything.

When did heartbeat last read ha.cf (or see it unchanged)? The latest of:

* the master process's start (``/proc/PID/stat`` field 22 in clock ticks since boot + ``btime`` of
  ``/proc/stat``; ``ps -o lstart=`` as a fallback). ``btime`` is whole seconds and the master may be
  forked a moment after the config was read, so the start is only known to about a second:
  :data:`START_SLACK_S` absorbs that, and ha.cf's whole-second mtime besides;
* the master's last ``Performing heartbeat restart exec.`` (an exec keeps the PID and its start time,
  and the new image reads ha.cf again), ``Rereading authentication file.`` or ``Configuration
  unchanged.`` line in its log: both are logged only after the master found ha.cf's mtime equal to
  the recorded one. Log lines carry whole seconds of the node's local time, compared with ha.cf's
  mtime in the same local time (``stat -c %y``): no time-zone arithmetic.

A replaced ha.cf with an *older* mtime (``cp -p``, ``rsync -t``) also differs from the recorded mtime
but is invisible by mtime; its ctime shows it (or a mere chmod), so that alone is a warning. Its
content tells more: the running master answers ``cl_status hbparameter -p NAME`` with the text it
read for each directive of :data:`RUNNING_PARAMS`, and a value the file now states differently is a
change heartbeat has not read (:func:`running_differences`). Media and node lines are not
answered by ``hbparameter``: a change only there is seen by mtime and ctime alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Dict, List, Optional, Tuple

from hadoctor.catalogue import literal

#: Log messages after which the master is known to have read ha.cf, or found its mtime unchanged.
RESTART_EXEC = literal("hb.restart_exec")
REREAD_AUTH = literal("hb.reread_auth")
UNCHANGED = literal("hb.config_unchanged")
READ_MARKS: Tuple[str, ...] = (RESTART_EXEC, REREAD_AUTH, UNCHANGED)
#: Directives the master reports as it read them (``cl_status hbparameter -p``; lab-checked on 3.0.6):
#: when absent from ha.cf it reports its default, so only directives the file states are compared.
RUNNING_PARAMS: Tuple[str, ...] = ("keepalive", "deadtime", "warntime", "initdead", "udpport", "auto_failback",
                                   "autojoin", "crm", "logfacility", "logfile", "debugfile")
#: Uncertainty of the master's start as a time of reading ha.cf (btime in whole seconds, fork after
#: parsing, mtime in whole seconds).
START_SLACK_S = 2.0
#: How much of the log's end is searched for the marks.
LOG_TAIL_BYTES = 64 * 1024 * 1024


def proc_start(stat_line: Optional[str], btime: Optional[str], clk_tck: Optional[str],
               comm: str = "heartbeat") -> Optional[float]:
    """Start of a process (epoch seconds) from its ``/proc/PID/stat`` line, ``btime`` and ``CLK_TCK``;
    None when unknown or when the process is not ``comm`` (a stale pid file).

    >>> proc_start("812 (heartbeat) S 1 811 811 0 -1 4194624 " + "0 " * 12 + "4200 0", "1700000000", "100")
    1700000042.0
    >>> proc_start("812 (sshd) S 1 811 811 0 -1 4194624 " + "0 " * 12 + "4200 0", "1700000000", "100") is None
    True
    """
    if not stat_line or not btime:
        return None
    head, sep, rest = stat_line.rpartition(")")
    if not sep or not head.partition("(")[2].startswith(comm):
        return None
    fields = rest.split()          # field 3 (state) first: starttime (field 22) is fields[19]
    try:
        return int(btime) + int(fields[19]) / float(int(clk_tck or 100) or 100)
    except (IndexError, ValueError):
        return None


def local_time(text: Optional[str]) -> Optional[datetime]:
    """Naive local time, whole seconds, from ``stat -c %y`` / ``date '+%Y-%m-%d %H:%M:%S'`` output.

    >>> local_time("2026-11-25 07:34:40.987654321 +0100")
    datetime.datetime(2026, 11, 25, 7, 34, 40)
    """
    try:
        return datetime.strptime((text or "")[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def utc_offset_s(now: Optional[str], now_local: Optional[str]) -> Optional[int]:
    """The node's UTC offset (seconds, to the minute) from its clock as epoch and as local time.

    >>> utc_offset_s("1764056080", "2025-11-25 08:34:40")
    3600
    """
    local = local_time(now_local)
    try:
        utc = datetime.fromtimestamp(int(now), timezone.utc).replace(tzinfo=None)
    except (TypeError, ValueError):
        return None
    if local is None:
        return None
    return int(round((local - utc).total_seconds() / 60.0)) * 60


def lstart_epoch(text: Optional[str], offset_s: Optional[int]) -> Optional[float]:
    """Epoch seconds of ``ps -o lstart=`` output (local time, C locale) given the node's UTC offset.

    >>> lstart_epoch("Tue Nov 25 08:34:40 2025", 3600)
    1764056080.0
    """
    if not text or offset_s is None:
        return None
    try:
        local = datetime.strptime(" ".join(text.split()), "%a %b %d %H:%M:%S %Y")
    except ValueError:
        return None
    return (local - timedelta(seconds=offset_s)).replace(tzinfo=timezone.utc).timestamp()


def changed_after_read(mtime: int, started: Optional[float], mtime_local: Optional[datetime] = None,
                       read_at: Optional[datetime] = None, slack: float = START_SLACK_S) -> Optional[bool]:
    """Was ha.cf modified after heartbeat last read it? True, False, or None (cannot tell).

    ``mtime``: ha.cf's mtime (epoch, whole seconds); ``started``: the master's start (epoch);
    ``mtime_local``: the same mtime as the node's local time; ``read_at``: the local time of the
    master's last log line saying it read ha.cf or found it unchanged (:data:`READ_MARKS`).

    Written before heartbeat started, or in the start's second(s): not pending.

    >>> changed_after_read(1000, started=1005.3)
    False
    >>> changed_after_read(1007, started=1005.3)
    False

    Written well after the start, no later reload in the log: pending.

    >>> changed_after_read(1010, started=1005.3)
    True

    ... unless a later restart exec (or reread) line shows heartbeat read it again:

    >>> t = datetime(2026, 11, 25, 7, 34, 50)
    >>> changed_after_read(1010, 1005.3, mtime_local=t, read_at=t + timedelta(seconds=2))
    False
    >>> changed_after_read(1010, 1005.3, mtime_local=t, read_at=t)    # same second: after it, not newer
    False
    >>> changed_after_read(1010, 1005.3, mtime_local=t, read_at=t - timedelta(seconds=1))
    True

    Nothing to compare with:

    >>> changed_after_read(1010, None) is None
    True
    """
    if read_at is not None and mtime_local is not None and mtime_local <= read_at:
        # a log line has whole seconds: an mtime in its second may be before it; a later one is after
        return False
    if started is not None:
        return mtime > started + slack
    if read_at is not None and mtime_local is not None:
        return True
    return None


def last_read_mark(data: bytes, path: str, pid: Optional[int] = None,
                   reference: Optional[datetime] = None) -> Optional[Tuple[datetime, str]]:
    """(local time, message) of the last :data:`READ_MARKS` line in ``data`` (lines of heartbeat's log,
    parsed by hadoctor's log parser), from the master ``pid`` when given.

    >>> last_read_mark(b"Nov 25 07:30:01 n2 heartbeat: [812]: info: Configuration unchanged.\\n"
    ...                b"Nov 25 07:34:52 n2 heartbeat: [812]: info: Performing heartbeat restart exec.\\n"
    ...                b"Nov 25 07:35:00 n2 heartbeat: [999]: info: Rereading authentication file.\\n",
    ...                "ha-log", pid=812, reference=datetime(2026, 11, 30))
    (datetime.datetime(2026, 11, 25, 7, 34, 52), 'Performing heartbeat restart exec.')
    """
    from hadoctor.parsers.hblog import parse_hblog

    best: Optional[Tuple[datetime, str]] = None
    for record in parse_hblog(data, path, reference=reference).records:
        if record.time is None or (pid is not None and record.pid is not None and record.pid != pid):
            continue
        if not any(m in record.message for m in READ_MARKS):
            continue
        if best is None or record.time >= best[0]:
            best = (record.time, record.message.strip())
    return best



def running_differences(hacf: object, running: Dict[str, str]) -> List[Tuple[str, str, str]]:
    """(directive, value in the file, value the running master reports) for each directive of
    :data:`RUNNING_PARAMS` the file states (its last occurrence) differently from what heartbeat read.

    >>> from hadoctor.parsers.hacf import parse_hacf
    >>> running_differences(parse_hacf(b"keepalive 1\\nwarntime 4\\nnode a\\n"), {"keepalive": "1", "warntime": "3"})
    [('warntime', '4', '3')]
    """
    out = []
    for name in RUNNING_PARAMS:
        told = running.get(name)
        stated = [d for d in hacf.directives_named(name) if d.args]
        if told is None or not stated:
            continue
        value = " ".join(stated[-1].args)
        if value != told:
            out.append((name, value, told))
    return out
