"""``hadoctor fix``: the repairs (so far one: rotate the authkeys key without a failover)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Tuple

from hadoctor.errors import UsageError

if TYPE_CHECKING:
    from hadoctor.fix.model import FixOptions


@dataclass(frozen=True)
class Options:
    authkeys: bool = False
    nodes: Tuple[str, ...] = ()
    dry_run: bool = False
    yes: bool = False
    force: bool = False
    ssh_config: Optional[str] = None
    ssh_options: Tuple[str, ...] = ()
    root: str = "/"
    fmt: str = "text"


def run(options: Options) -> int:
    if not options.authkeys:
        raise UsageError("say what to fix", "hadoctor fix --authkeys (the only repair so far)")
    from hadoctor.fix.model import FixOptions
    from hadoctor.remote import SshOptions

    return run_fix(FixOptions(nodes=list(options.nodes), dry_run=options.dry_run, yes=options.yes,
                              force=options.force, ssh=SshOptions.from_cli(options.ssh_config,
                                                                           list(options.ssh_options)),
                              root=options.root, fmt=options.fmt))


def run_fix(opts: FixOptions) -> int:
    """Rotate (or plan, with dry_run) and show the report; the exit code says how it ended."""
    from hadoctor.fix.keyfile import KeyFileError
    from hadoctor.fix.model import EXIT_ATTENTION, EXIT_REFUSED, Attention, FixProgress, Refused
    from hadoctor.fix.rotate import rotate
    from hadoctor.fix.run import Run
    from hadoctor.report.fix import render_outcome

    progress = FixProgress()
    rotation = Run(opts, progress)
    try:
        report = rotate(rotation)
    except Refused as err:
        report = rotation.report
        report.action, report.exit_code, report.message = "refused", EXIT_REFUSED, str(err)
        if err.hint:
            report.message += f" (hint: {err.hint})"
    except Attention as err:
        report = rotation.report
        report.action, report.exit_code, report.message = "attention", EXIT_ATTENTION, str(err)
    except KeyFileError as err:
        report = rotation.report
        report.action, report.exit_code = "refused", EXIT_REFUSED
        report.message = f"nothing was changed: {err}"
    report.duration_s = round(time.monotonic() - rotation.t0, 2)
    render_outcome(report, opts.fmt)
    return report.exit_code
