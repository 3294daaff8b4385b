"""``hadoctor snapshot``: load a target and show what hadoctor understood of each node."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from hadoctor.errors import EXIT_OK


@dataclass(frozen=True)
class Options:
    target: Optional[str]
    fmt: str = "text"
    root: str = "/"
    mysql_defaults: str = ""  # live host: the mysql client's option file (--defaults-extra-file)


def run(options: Options) -> int:
    from hadoctor.report.snapshot_view import render_snapshot
    from hadoctor.snapshot.loader import load_target

    render_snapshot(load_target(options.target, root=options.root, mysql_defaults=options.mysql_defaults), options.fmt)
    return EXIT_OK
