"""Options of ``hadoctor bundle create`` and its progress lines (shared by the collector and its caller)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Optional, Sequence

from hadoctor.remote import SshOptions

DEFAULT_TIMEOUT = 120.0
#: per command on the node (GNU/busybox ``timeout``; without it the node's whole run is still bounded)
COMMAND_TIMEOUT = 20


@dataclass
class CreateOptions:
    output: Optional[str] = None
    nodes: Sequence[str] = ()
    since: Optional[str] = None
    until: Optional[str] = None
    obfuscate: bool = False
    map_file: Optional[str] = None
    ssh: SshOptions = SshOptions()
    timeout: float = DEFAULT_TIMEOUT
    root: str = "/"
    command_timeout: int = COMMAND_TIMEOUT
    mysql_defaults: str = ""  # each node's mysql client reads this option file (a path there; never its content)


class Progress:
    """Progress lines on stderr (rich), one per step; never on stdout."""

    def __init__(self, quiet: bool = False) -> None:
        from hadoctor.terminal import console

        self.console = console(stderr=True)
        self.quiet = quiet
        self.lock = threading.Lock()
        self.t0 = time.monotonic()

    def say(self, node: str, text: str, style: str = "") -> None:
        if self.quiet:
            return
        from hadoctor.terminal import hang, safe

        with self.lock:
            stamp = f"{time.monotonic() - self.t0:5.1f}s"
            body = safe(text)
            hang(self.console, f"[dim]{stamp}[/] [bold]{safe(node)}[/]: ", f"[{style}]{body}[/]" if style else body, 8)
