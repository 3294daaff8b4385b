"""The vocabulary of ``fix --authkeys``: its options, exit codes, refusals, progress notes and report."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from hadoctor.errors import HadoctorError
from hadoctor.remote import SshOptions

EXIT_ROTATED = 0
EXIT_ROLLED_BACK = 1
EXIT_REFUSED = 2
EXIT_ATTENTION = 4
PAUSE_ENV = "HADOCTOR_FIX_PAUSE_AT"
PAUSE_POINTS = ("planned", "stage-partial", "staged", "switch-ready", "switch-partial", "switch-unconfirmed",
                "confirm-sent", "confirm-partial", "switched", "verified", "final-partial")
RESUME_ENV = "HADOCTOR_FIX_RESUME_FILE"


@dataclass(frozen=True)
class FixOptions:
    nodes: Sequence[str] = ()
    dry_run: bool = False
    yes: bool = False
    force: bool = False
    ssh: SshOptions = SshOptions()
    root: str = "/"
    fmt: str = "text"
    capture: Optional[bool] = None     # None: when root and this host is a member


class Refused(HadoctorError):
    """Stopped before changing anything."""

    exit_code = EXIT_REFUSED


class Attention(HadoctorError):
    """A state hadoctor will not touch automatically; a person must look (exit 4)."""

    exit_code = EXIT_ATTENTION


@dataclass
class RotationReport:
    """How the run ended and what it saw: the JSON document on stdout (schema hadoctor-fix/1)."""

    action: str = "rotate"
    exit_code: int = EXIT_ROTATED
    message: str = ""
    procedure: Optional[str] = None
    procedure_reason: str = ""
    nodes: List[str] = field(default_factory=list)
    new_index: Optional[int] = None
    old_index: Optional[int] = None
    window_ms: Optional[float] = None
    release_spread_ms: Optional[float] = None
    revert_deadline_s: Optional[float] = None
    release_delay_ms: Optional[float] = None    # waited for a moment without a heartbeat due (None: no capture)
    confirmed: Dict[str, List[str]] = field(default_factory=dict)   # switch/rollback -> nodes confirmed
    switch_marks: Dict[str, dict] = field(default_factory=dict)
    auth_failures: Dict[str, dict] = field(default_factory=dict)
    wire: Dict[str, dict] = field(default_factory=dict)
    wire_note: str = ""
    backups: Dict[str, str] = field(default_factory=dict)
    fingerprints: Dict[str, str] = field(default_factory=dict)
    steps: List[dict] = field(default_factory=list)
    plan: List[str] = field(default_factory=list)
    diff: Dict[str, List[str]] = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)
    refusals: List[str] = field(default_factory=list)
    duration_s: float = 0.0

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["schema"] = "hadoctor-fix/1"
        return d


class FixProgress:
    """Notes for people on stderr (rich); the machine report alone goes to stdout."""

    def __init__(self, quiet: bool = False) -> None:
        from hadoctor.terminal import console

        self.console = console(stderr=True)
        self.quiet = quiet
        self.t0 = time.monotonic()

    def _say(self, lead: str, text: str) -> None:
        from hadoctor.terminal import hang, safe

        hang(self.console, lead, safe(text), 8)  # node names and remote output: shown, never obeyed

    def step(self, text: str) -> None:
        self._say(f"[dim]{time.monotonic() - self.t0:6.2f}s[/] ", text)

    def warn(self, text: str) -> None:
        self._say("[yellow]warning[/] ", text)

    def error(self, text: str) -> None:
        self._say("[bold red]error[/] ", text)


def pause(point: str) -> None:
    """Tests stop a run here (HADOCTOR_FIX_PAUSE_AT=point) to kill it mid-way, or to cut a connection
    and let it go on once the file HADOCTOR_FIX_RESUME_FILE exists."""
    if os.environ.get(PAUSE_ENV) == point:
        sys.stderr.write(f"hadoctor-fix: paused at {point} pid={os.getpid()}\n")
        sys.stderr.flush()
        resume = os.environ.get(RESUME_ENV)
        end = time.monotonic() + 3600
        while time.monotonic() < end:
            if resume and os.path.exists(resume):
                return
            time.sleep(0.005)
