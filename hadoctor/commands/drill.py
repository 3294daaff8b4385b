"""``hadoctor drill``: the failover test, run and measured; the report on stdout, progress on stderr."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Optional, Tuple

from hadoctor.errors import UsageError


@dataclass(frozen=True)
class Options:
    kind: Optional[str]
    nodes: Tuple[str, ...] = ()
    ports: Tuple[str, ...] = ()
    vip: Optional[str] = None
    iface: Optional[str] = None
    hard: bool = False
    confirm: Optional[str] = None
    force: bool = False
    recover: bool = False
    wait_s: Optional[float] = None
    ssh_config: Optional[str] = None
    ssh_options: Tuple[str, ...] = ()
    fmt: str = "text"
    svg: Optional[str] = None
    html: Optional[str] = None


def _ask(question: str) -> Optional[str]:
    if not sys.stdin.isatty():
        return None
    sys.stderr.write(question + ": ")
    sys.stderr.flush()
    return sys.stdin.readline().strip()


def run(options: Options) -> int:
    from hadoctor.drill.driver import Drill, DrillOptions
    from hadoctor.drill.observer import parse_service
    from hadoctor.remote import SshOptions
    from hadoctor.report.drill import render
    from hadoctor.terminal import visible

    if options.svg and options.html:
        raise UsageError("--svg and --html are exclusive", "pick one picture format")
    if options.kind is None and not options.recover:
        raise UsageError("say which drill to run", "hadoctor drill switchover|failback|crash|link, or --recover")
    try:
        services = tuple(parse_service(p) for p in options.ports)
    except ValueError as err:
        raise UsageError(f"--port: {err}", "e.g. --port 5060/udp --port 3306") from None
    opts = DrillOptions(kind=options.kind or "switchover", nodes=options.nodes,
                        ssh=SshOptions.from_cli(options.ssh_config, list(options.ssh_options)),
                        services=services, vip=options.vip, iface=options.iface, hard=options.hard,
                        confirm=options.confirm, force=options.force, recover=options.recover,
                        wait_s=options.wait_s)

    def say(text: str) -> None:
        sys.stderr.write(f"hadoctor drill: {visible(text)}\n")
        sys.stderr.flush()

    report = Drill(opts, say=say, confirm=_ask).run()
    render(report, options.fmt)
    picture = options.svg or options.html
    if picture and report.phases:
        from hadoctor.drill.picture import render_picture
        from hadoctor.errors import HadoctorError

        try:
            text = render_picture(report, "svg" if options.svg else "html")
            with open(picture, "w", encoding="utf-8") as handle:
                handle.write(text)
            say(f"picture written to {picture}")
        except OSError as err:
            say(f"cannot write {picture}: {err.strerror}")
        except HadoctorError as err:
            say(f"no picture: {err}")
    return report.exit_code
