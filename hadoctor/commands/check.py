"""``hadoctor check``: load a target, run the selected rules, report the findings."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import List, Optional, Tuple

from hadoctor.errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, HadoctorError, UsageError
from hadoctor.report.result import exit_code  # noqa: F401 - the check's exit code, shared with fleet workers


@dataclass(frozen=True)
class Options:
    target: Optional[str]
    fmt: str = "text"
    select: Tuple[str, ...] = ()
    ignore: Tuple[str, ...] = ()
    fail_on: str = "warning"
    show_all: bool = False
    rules_dirs: Tuple[str, ...] = ()
    suppressions_file: Optional[str] = None
    root: str = "/"
    output: Optional[str] = None  # machine formats: write here atomically instead of stdout
    html: Optional[str] = None  # fleet: also write the HTML page here
    jobs: Optional[int] = None  # fleet: clusters checked at once (default every core)
    timeout: Optional[float] = None  # nagios/prometheus: seconds before giving up (UNKNOWN, success 0)
    mysql_defaults: str = ""  # live host: the mysql client's option file (--defaults-extra-file)


def run(options: Options) -> int:
    return _run(options.target, fmt=options.fmt, select=list(options.select), ignore=list(options.ignore),
                fail_on=options.fail_on, show_all=options.show_all, rules_dirs=list(options.rules_dirs),
                suppressions_file=options.suppressions_file, root=options.root, output=options.output,
                html=options.html, jobs=options.jobs, timeout=options.timeout, mysql_defaults=options.mysql_defaults)


def _run(target: Optional[str], *, fmt: str, select: List[str], ignore: List[str], fail_on: str,
         show_all: bool, rules_dirs: List[str], suppressions_file: Optional[str], root: str,
         output: Optional[str] = None, html: Optional[str] = None, jobs: Optional[int] = None,
         timeout: Optional[float] = None, mysql_defaults: str = "") -> int:
    if timeout is not None and fmt not in ("nagios", "prometheus"):
        raise UsageError("--timeout is for the monitoring formats", "add --format nagios or prometheus")
    if output and fmt == "text":
        raise UsageError("--output needs a machine format", "add --format json, sarif, nagios or prometheus")
    if fmt in ("nagios", "prometheus"):
        return _run_monitoring(target, fmt=fmt, select=select, ignore=ignore, fail_on=fail_on, rules_dirs=rules_dirs,
                               suppressions_file=suppressions_file, root=root, output=output, html=html, jobs=jobs,
                               timeout=timeout, mysql_defaults=mysql_defaults)
    rules, supps, catalogue = _rules_and_suppressions(select, ignore, rules_dirs, suppressions_file)
    from hadoctor.fleet import fleet_members

    members = fleet_members(target) if target else None
    if members:
        return _run_fleet(members, (rules, supps, catalogue), fmt=fmt, fail_on=fail_on, output=output, html=html,
                          jobs=jobs)
    if html:
        raise UsageError("--html writes the fleet report", "give a folder of bundles or cluster folders as TARGET")
    from hadoctor.engine.runner import run
    from hadoctor.snapshot.loader import load_target

    from hadoctor.engine.runner import data_needed
    from hadoctor.datums import CORE_DATA

    # the selected rules' data, and the core data whose absence makes the exit code 3
    from hadoctor.engine.discovery import all_derivations

    derivations = all_derivations(rules_dirs)
    only = data_needed(rules, derivations)
    cluster = load_target(target, root=root, only=None if only is None else only | set(CORE_DATA),
                          mysql_defaults=mysql_defaults)
    report = run(cluster, rules, suppressions=supps, catalogue=catalogue, derivations=derivations)
    code = exit_code(report, fail_on)
    if fmt == "json":
        from hadoctor.report.findings_json import write_report

        _emit(lambda out: write_report(report, code, out), output)
    elif fmt == "sarif":
        from hadoctor.report.sarif import write_sarif

        _emit(lambda out: write_sarif(report, out), output)
    else:
        from hadoctor.report.text import render_text
        from hadoctor.terminal import console

        render_text(report, console(), show_all=show_all, exit_code=code)
    return code


def _rules_and_suppressions(select: List[str], ignore: List[str], rules_dirs: List[str],
                            suppressions_file: Optional[str]):
    from hadoctor.engine import discovery

    catalogue = discovery.all_rules(rules_dirs)
    rules = discovery.select_rules(catalogue, select, ignore)
    supps = []
    if suppressions_file:
        from hadoctor.parsers.suppressions import parse_file
        from hadoctor.inputs import read_bytes

        supps = parse_file(read_bytes(suppressions_file), suppressions_file)
    return rules, supps, catalogue


def _emit(write, output: Optional[str]) -> None:
    """A machine format on stdout, or atomically into ``output``."""
    if not output:
        write(sys.stdout)
        return
    import io

    from hadoctor.report.atomic import write_atomically

    buf = io.StringIO()
    write(buf)
    write_atomically(output, buf.getvalue())


def _run_monitoring(target: Optional[str], *, fmt: str, select: List[str], ignore: List[str], fail_on: str,
                    rules_dirs: List[str], suppressions_file: Optional[str], root: str, output: Optional[str],
                    html: Optional[str], jobs: Optional[int], timeout: Optional[float],
                    mysql_defaults: str = "") -> int:
    """Nagios and Prometheus: an input error or a --timeout is still output in the format (UNKNOWN,
    success 0): a monitoring system must get an answer within its own timeout."""
    import signal

    from hadoctor.errors import HadoctorError
    from hadoctor.fleet import check_fleet, check_one, fleet_members
    from hadoctor.report.result import from_error

    def expire(_signum, _frame):
        raise CheckTimeout(f"no verdict within --timeout {timeout:g} s",
                           "raise --timeout, or check fewer clusters at once")

    error = None
    if timeout is not None:
        signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        work = _rules_and_suppressions(select, ignore, rules_dirs, suppressions_file)
        members = fleet_members(target) if target else None
        if members:
            results = check_fleet(members, work, fail_on=fail_on, with_log_state=fmt == "prometheus", jobs=jobs)
        else:
            results = [check_one(target, work, root=root, fail_on=fail_on, with_log_state=fmt == "prometheus",
                                 mysql_defaults=mysql_defaults)]
    except HadoctorError as err:
        error = err
        results = [from_error(target, str(err), err.exit_code)]
    finally:
        if timeout is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
    if html:
        _write_fleet_html(results, html, fail_on)
    if fmt == "nagios":
        from hadoctor.report.nagios import render_nagios

        text, state = render_nagios(results, fail_on)
        _emit(lambda out: out.write(text + "\n"), output)
        return state
    from hadoctor import __version__
    from hadoctor.report.prometheus import render_prometheus

    _emit(lambda out: out.write(render_prometheus(results, __version__)), output)
    if error is not None:
        raise error
    return fleet_exit_code(results)


class CheckTimeout(HadoctorError):
    """--timeout expired before the check had a verdict."""

    exit_code = EXIT_INCOMPLETE


def _run_fleet(members: List[str], work, *, fmt: str, fail_on: str, output: Optional[str],
               html: Optional[str], jobs: Optional[int]) -> int:
    from hadoctor.fleet import check_fleet

    results = check_fleet(members, work, fail_on=fail_on, with_log_state=False, jobs=jobs)
    code = fleet_exit_code(results)
    if html:
        _write_fleet_html(results, html, fail_on)
    if fmt == "json":
        from hadoctor.report.fleet import write_fleet_json

        _emit(lambda out: write_fleet_json(results, code, out), output)
    elif fmt == "sarif":
        raise UsageError("SARIF describes one cluster", "use --format json (schema hadoctor-fleet/1) for a fleet")
    else:
        from hadoctor.report.fleet import render_fleet_table
        from hadoctor.terminal import console

        render_fleet_table(results, console(), exit_code=code)
    return code


def _write_fleet_html(results, path: str, fail_on: str) -> None:
    from hadoctor.report.atomic import write_atomically
    from hadoctor.report.fleet_html import render_fleet_html

    write_atomically(path, render_fleet_html(results))


def fleet_exit_code(results) -> int:
    """1 when a cluster has findings at or above --fail-on, else 2 when a member could not be read,
    else 3 when a node lacks core data, else 0."""
    if any(r.exit_code == EXIT_FINDINGS for r in results):
        return EXIT_FINDINGS
    if any(r.error for r in results):
        return EXIT_USAGE
    if any(r.incomplete for r in results):
        return EXIT_INCOMPLETE
    return EXIT_OK
