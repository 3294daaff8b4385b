"""Checking many clusters: a folder of bundles or of cluster folders, one process per core.

Each member is checked exactly like ``hadoctor check MEMBER`` (same loader, rules and exit code)
in a worker process; workers return :class:`hadoctor.report.result.ClusterResult` (plain data),
so reporters never see rule objects. A member that cannot be read is a result with its error,
never the end of the fleet run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional

from hadoctor.errors import HadoctorError
from hadoctor.report.result import ClusterResult, exit_code, from_error, from_report

#: what a forked worker needs, set by :func:`check_fleet` before the pool starts (fork inherits it)
_WORK: dict = {}


def fleet_members(target: str) -> Optional[List[str]]:
    """The members when ``target`` is a fleet folder (holds bundles or cluster folders and no node
    folder itself), else None (an ordinary target)."""
    from hadoctor.bundle.archive import looks_like_archive
    from hadoctor.snapshot.loader import is_node_folder

    path = Path(target)
    if not path.is_dir() or is_node_folder(path):
        return None
    try:
        children = sorted(path.iterdir())
    except OSError:
        return None
    if any(c.is_dir() and is_node_folder(c) for c in children):
        return None
    members = []
    for c in children:
        if c.name.startswith("."):
            continue
        if c.is_file() and not c.is_symlink() and looks_like_archive(str(c)):
            members.append(str(c))
        elif c.is_dir() and not c.is_symlink() and _has_node_folders(c):
            members.append(str(c))
    return members or None


def _has_node_folders(path: Path) -> bool:
    from hadoctor.snapshot.loader import is_node_folder

    try:
        return any(d.is_dir() and is_node_folder(d) for d in path.iterdir())
    except OSError:
        return False


def data_time(target: Optional[str]) -> Optional[float]:
    """When the data was written: a bundle's mtime, the newest file of a folder's node folders."""
    if target is None:
        return None
    try:
        st = os.stat(target)
        if not os.path.isdir(target):
            return st.st_mtime
        newest = None
        for top in [target] + [e.path for e in os.scandir(target) if e.is_dir(follow_symlinks=False)]:
            for entry in os.scandir(top):
                if entry.is_file(follow_symlinks=False):
                    m = entry.stat(follow_symlinks=False).st_mtime
                    newest = m if newest is None or m > newest else newest
        return newest
    except OSError:
        return None


def check_one(target: Optional[str], work, *, root: str, fail_on: str, with_log_state: bool,
              mysql_defaults: str = "") -> ClusterResult:
    """One cluster, as ``hadoctor check TARGET`` would see it; raises HadoctorError on bad input.
    ``work``: (selected rules, suppressions, the whole rule catalogue)."""
    from hadoctor.engine.runner import run
    from hadoctor.snapshot.loader import load_target

    rules, suppressions, catalogue = work
    cluster = load_target(target, root=root, mysql_defaults=mysql_defaults)
    report = run(cluster, rules, suppressions=suppressions, catalogue=catalogue)
    states = []
    if with_log_state:
        from hadoctor.timeline.state import log_state

        for node in cluster.nodes:
            source = node.find("log")
            if source is None:
                continue
            try:
                states.append(log_state(node.name, source))
            except HadoctorError as err:
                report.notes.append(f"{node.name}: log state not read: {err}")
    return from_report(report, cluster, target=target, exit_code=exit_code(report, fail_on), log_states=states,
                       data_time=data_time(target))


def _worker(target: str) -> ClusterResult:
    from hadoctor.bundle import archive
    from hadoctor.engine.runner import STRICT_ENV
    from hadoctor.errors import EXIT_USAGE

    try:
        return check_one(target, _WORK["work"], root="/", fail_on=_WORK["fail_on"],
                         with_log_state=_WORK["with_log_state"])
    except HadoctorError as err:
        return from_error(target, str(err), err.exit_code)
    except Exception as exc:  # one broken member must not end the fleet run
        if os.environ.get(STRICT_ENV) == "1":
            raise
        return from_error(target, f"internal error ({type(exc).__name__}: {exc}); please report it", EXIT_USAGE)
    finally:
        archive.cleanup()


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def check_fleet(members: List[str], work, *, fail_on: str, with_log_state: bool,
                jobs: Optional[int] = None) -> List[ClusterResult]:
    """Every member, ``jobs`` at a time (default: every usable core), in the members' order.
    ``work``: (selected rules, suppressions, the whole rule catalogue)."""
    import multiprocessing

    _WORK.update(work=work, fail_on=fail_on, with_log_state=with_log_state)
    workers = max(1, min(jobs or cpu_count(), len(members)))
    if workers == 1:
        return [_worker(m) for m in members]
    # a Pool, not a ProcessPoolExecutor: leaving the block (a --timeout, Ctrl-C) terminates the workers
    # at once instead of waiting for the checks they are running
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return list(pool.imap(_worker, members, chunksize=1))
