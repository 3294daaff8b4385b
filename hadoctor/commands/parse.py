"""``hadoctor parse KIND FILE``: parse one file and show its model and problems (exit 1 on an error problem)."""

from __future__ import annotations

from dataclasses import dataclass

from hadoctor.errors import EXIT_FINDINGS, EXIT_OK


@dataclass(frozen=True)
class Options:
    kind: str
    path: str
    fmt: str = "text"


def run(options: Options) -> int:
    from hadoctor.inputs import read_config
    from hadoctor.report.snapshot_view import problems_of, render_parsed
    from hadoctor.datums import DATUMS

    kind, path = options.kind, options.path
    name = {"ha.cf": "ha_cf"}.get(kind, kind)
    if name == "log":
        return _log(path, options.fmt)
    data = read_config(path, allow_empty=False)
    if name == "authkeys":
        from hadoctor.parsers.authkeys import parse_authkeys

        value = parse_authkeys(data, path)
    else:
        value = DATUMS[name].parse_function()(data, path)
    render_parsed(kind, name, path, value, options.fmt)
    return EXIT_FINDINGS if any(p.severity == "error" for p in problems_of(value)) else EXIT_OK


def _log(path: str, fmt: str) -> int:
    import collections

    from hadoctor.snapshot.logsource import iter_log_file
    from hadoctor.report.snapshot_view import render_log_summary

    layouts: collections.Counter = collections.Counter()
    levels: collections.Counter = collections.Counter()
    first = last = None
    count = 0
    for record in iter_log_file(path):
        count += 1
        layouts[record.layout] += 1
        levels[record.level or "-"] += 1
        if record.time:
            first = first or record.time
            last = record.time
    render_log_summary({"path": path, "records": count, "layouts": dict(layouts), "levels": dict(levels),
                        "first": first.isoformat() if first else None,
                        "last": last.isoformat() if last else None}, fmt)
    return EXIT_OK
