"""``hadoctor timeline``: merge every node's log into one timeline; text or JSON, and SVG or HTML."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Optional

from hadoctor.errors import EXIT_OK, InputError, UsageError


@dataclass(frozen=True)
class Options:
    target: Optional[str] = None
    since: Optional[str] = None
    until: Optional[str] = None
    fmt: str = "text"
    svg: Optional[str] = None
    html: Optional[str] = None
    skew_correction: bool = True
    limit: int = 1000
    root: str = "/"
    mysql_defaults: str = ""  # live host: the mysql client's option file (--defaults-extra-file)


def run(options: Options) -> int:
    from hadoctor.timebounds import parse_bound
    from hadoctor.report import timeline as render
    from hadoctor.timeline.build import build_timeline

    if options.svg and options.html:
        raise UsageError("--svg and --html are exclusive", "pick one picture format")
    bounds = [parse_bound(options.since, "--since", durations=False),
              parse_bound(options.until, "--until", durations=False)]
    if bounds[0] and bounds[1] and bounds[1] < bounds[0]:
        raise UsageError("--until is before --since", "swap them")
    tl = build_timeline(options.target, skew_correction=options.skew_correction, since=bounds[0], until=bounds[1],
                        root=options.root, mysql_defaults=options.mysql_defaults)
    try:
        for path, draw in ((options.svg, render.render_svg), (options.html, render.render_html)):
            if path:
                try:
                    with open(path, "w", encoding="utf-8") as handle:
                        handle.write(draw(tl))
                except OSError as err:
                    raise InputError(path, f"cannot write: {err.strerror}", "choose a writable path")
        if options.fmt == "json":
            render.write_json(tl, sys.stdout)
        else:
            render.render_text(tl, limit=options.limit)
    finally:
        tl.close()
    return EXIT_OK
