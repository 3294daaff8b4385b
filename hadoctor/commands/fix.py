"""``hadoctor fix``: the repairs (so far one: rotate the authkeys key without a failover)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Tuple

from hadoctor.errors import UsageError

if TYPE_CHECKING:
    from hadoctor.fix.rotate import FixOptions


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
    from hadoctor.fix.rotate import FixOptions
    from hadoctor.remote import SshOptions

    return run_fix(FixOptions(nodes=list(options.nodes), dry_run=options.dry_run, yes=options.yes,
                              force=options.force, ssh=SshOptions.from_cli(options.ssh_config,
                                                                           list(options.ssh_options)),
                              root=options.root, fmt=options.fmt))


def run_fix(opts: FixOptions) -> int:
    """Rotate (or plan, with dry_run) and show the outcome; the exit code says how it ended."""
    from hadoctor.fix.keyfile import KeyFileError
    from hadoctor.fix.rotate import EXIT_ATTENTION, EXIT_REFUSED, Attention, Progress, Refused, Rotation
    from hadoctor.report.fix import render_outcome

    progress = Progress()
    rotation = Rotation(opts, progress)
    try:
        outcome = rotation.run()
    except Refused as err:
        outcome = rotation.outcome
        outcome.action, outcome.exit_code, outcome.message = "refused", EXIT_REFUSED, str(err)
        if err.hint:
            outcome.message += f" (hint: {err.hint})"
    except Attention as err:
        outcome = rotation.outcome
        outcome.action, outcome.exit_code, outcome.message = "attention", EXIT_ATTENTION, str(err)
    except KeyFileError as err:
        outcome = rotation.outcome
        outcome.action, outcome.exit_code = "refused", EXIT_REFUSED
        outcome.message = f"nothing was changed: {err}"
    outcome.duration_s = round(time.monotonic() - rotation.t0, 2)
    render_outcome(outcome, opts.fmt)
    return outcome.exit_code
