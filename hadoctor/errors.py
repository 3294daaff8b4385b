"""Errors that reach the user as a message and an exit code, never a traceback."""

from __future__ import annotations

#: The exit codes the commands share (README, ``--help``). A command may add its own, said in its
#: ``--help``: 4 is a leak for ``bundle verify`` and "needs attention" for ``fix``.
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3


class HadoctorError(Exception):
    """Base class: ``str(err)`` is the whole message a user sees; ``hint`` says what to do next."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class InputError(HadoctorError):
    """An input file or target could not be read (missing, a directory, no permission, corrupt)."""

    def __init__(self, path: str, reason: str, hint: str = "") -> None:
        super().__init__(f"{path}: {reason}", hint)
        self.path = path
        self.reason = reason


class UsageError(HadoctorError):
    """The command line asks for something that cannot be done."""
