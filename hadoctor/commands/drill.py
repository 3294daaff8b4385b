"""``hadoctor drill``: options in, a drill run, the report out (stdout), progress on stderr."""

from __future__ import annotations

import sys
from typing import Optional

from hadoctor.drill.driver import Drill, DrillOptions


def _ask(question: str) -> Optional[str]:
    if not sys.stdin.isatty():
        return None
    sys.stderr.write(question + ": ")
    sys.stderr.flush()
    return sys.stdin.readline().strip()


def run(opts: DrillOptions, fmt: str = "text") -> int:
    from hadoctor.drill.render import render_json, render_text

    def say(text: str) -> None:
        sys.stderr.write(f"hadoctor drill: {text}\n")
        sys.stderr.flush()

    report = Drill(opts, say=say, confirm=_ask).run()
    if fmt == "json":
        sys.stdout.write(render_json(report) + "\n")
    else:
        import shutil

        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
        sys.stdout.write(render_text(report, width) + "\n")
    return report.exit_code
