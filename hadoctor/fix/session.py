"""Running node scripts for ``fix --authkeys``: in parallel, and *held* then released together.

:class:`Held` starts a node script over its shell (``sh -s`` locally or through ssh), sends the
first part (everything up to ``ready``: the new file is written, checked and waiting), and keeps
the connection open with the shell blocked reading its standard input. :func:`release` then
writes one short line (``go``) to every held connection back to back, so the nodes rename and
reload within a few milliseconds of each other over connections that are already established: no
ssh handshake inside the switch window. If hadoctor dies before the release, the shells read end
of file and exit with nothing changed; the release line is a single write shorter than a pipe
buffer, so a node gets all of it or none. With a watchdog (commit confirmed) the connection stays open
after ``go``: the node says ``switched=yes`` (:meth:`Held.wait_line`) and waits for ``confirm``
(:meth:`Held.send_confirm`), without which it reverts by itself.
"""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from hadoctor.fix.nodescript import CONFIRM, GO, Output, parse_output
from hadoctor.remote import RunResult, Shell, kill_group


def run_all(jobs: Sequence[Tuple[Shell, str]], timeout: float) -> List[RunResult]:
    """Run one script per shell concurrently; results in the same order."""
    if len(jobs) == 1:
        shell, script = jobs[0]
        return [shell.run(script, timeout=timeout)]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(shell.run, script, timeout=timeout) for shell, script in jobs]
        return [f.result() for f in futures]


@dataclass
class Released:
    node: str
    result: RunResult
    output: Output
    sent_at: float        # time.monotonic() when the go line was written
    done_at: float        # when the node's output ended


class Held:
    """One node script, started and waiting for ``go`` (see the module docstring)."""

    def __init__(self, shell: Shell, part1: str) -> None:
        self.shell = shell
        self.node = shell.node
        self.t0 = time.monotonic()
        self._lines: "queue.Queue[Optional[bytes]]" = queue.Queue()
        self._stdout: List[bytes] = []
        self._stderr = b""
        self.error: Optional[str] = None
        self.sent_at: Optional[float] = None       # monotonic: go written
        self.ready_at: Optional[float] = None
        self.confirm_at: Optional[float] = None
        self._ended = False
        try:
            self.proc = subprocess.Popen(shell.argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            self.proc = None
            self.error = f"cannot run {shell.argv()[0]}: {exc.strerror or exc}"
            return
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._errreader = threading.Thread(target=self._read_err, daemon=True)
        self._errreader.start()
        try:
            self.proc.stdin.write(part1.encode())
            self.proc.stdin.flush()
        except OSError as exc:
            self.error = f"cannot send the script: {exc}"

    def _read(self) -> None:
        for line in iter(self.proc.stdout.readline, b""):
            self._stdout.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _read_err(self) -> None:
        self._stderr = self.proc.stderr.read()

    def wait_ready(self, timeout: float) -> bool:
        """True once the node printed ``ready=yes``; False on failure, end of output or timeout."""
        ok = self.wait_line(b"ready=yes", time.monotonic() + timeout)
        if ok is None:
            self.error = f"not ready after {timeout:.0f} s"
        if ok:
            self.ready_at = time.monotonic()
        return bool(ok)

    def wait_line(self, want: bytes, deadline: float) -> Optional[bool]:
        """True once the node printed the line ``want``; False at the end of its output (or when it
        could not start); None when ``deadline`` (monotonic) passed first."""
        if self.proc is None or self.error:
            return False
        if self._ended:
            return False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                self._ended = True
                return False
            if line.strip() == want:
                return True

    def send_go(self, close: bool = True) -> None:
        """Write ``go``; without ``close`` stdin stays open for ``confirm`` (a watchdog switch)."""
        self.sent_at = time.monotonic()
        self._send(GO, close)

    def send_confirm(self) -> None:
        self.confirm_at = time.monotonic()
        self._send(CONFIRM, True)

    def _send(self, line: bytes, close: bool) -> None:
        if self.proc is None:
            return
        try:
            self.proc.stdin.write(line)
            self.proc.stdin.flush()
            if close:
                self.proc.stdin.close()
        except (OSError, ValueError) as exc:
            self.error = self.error or f"cannot send {line.strip().decode()}: {exc}"

    def abandon(self) -> None:
        """Close stdin without ``go``: the node script ends having changed nothing live."""
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def finish(self, timeout: float) -> Released:
        timed_out = False
        rc: Optional[int] = None
        if self.proc is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                rc = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_group(self.proc)
                self.proc.wait()
                timed_out = True
            self._reader.join(5)
            self._errreader.join(5)
        done = time.monotonic()
        out = b"".join(self._stdout)
        result = RunResult(self.node, self.shell.where, None if timed_out else rc, out, self._stderr,
                           done - self.t0, timed_out=timed_out, error=self.error)
        result = self.shell._classify(result)
        return Released(self.node, result, parse_output(out), self.sent_at or done, done)


def hold_all(jobs: Sequence[Tuple[Shell, str]], ready_timeout: float) -> Tuple[List[Held], Dict[str, str]]:
    """Start every script; wait until all are ready. Returns the held sessions and, per node that did
    not get ready, why."""
    held = [Held(shell, script) for shell, script in jobs]
    failed: Dict[str, str] = {}
    for h in held:
        if not h.wait_ready(ready_timeout):
            r = h.finish(5) if h.proc is None or h.proc.poll() is not None else None
            why = h.error or (r.output.get("reason") if r else None) or (r.result.reason if r else "not ready")
            failed[h.node] = why
    return held, failed


def release(held: Sequence[Held], between: Optional[Callable[[int], None]] = None, close: bool = True) -> None:
    """Send ``go`` to every held node, back to back (``between(i)`` runs after the i-th, for tests);
    ``close=False`` keeps every stdin open for ``confirm``."""
    for i, h in enumerate(held):
        h.send_go(close)
        if between is not None:
            between(i)
