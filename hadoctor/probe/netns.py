"""Run a little code inside a named network namespace without moving the calling thread.

``setns(CLONE_NEWNET)`` changes the namespace of the calling *thread* only. Doing it in
the caller would leave every later socket of that thread (and pyroute2, logging...) in
the wrong namespace if anything went wrong on the way back, and would race with other
threads that fork. So :func:`run_in_netns` starts a short-lived thread, enters the
namespace there, runs the function (typically: create and bind a socket) and lets the
thread end; the caller's namespace is never touched. A socket keeps the namespace it was
created in, so it can then be used from any thread.

The namespace is opened by name from ``/run/netns`` (``ip netns add``); nothing here can
create one (pyroute2's ``setns`` would by default).

>>> run_in_netns(None, lambda: 42)
42
>>> netns_path("../etc")
Traceback (most recent call last):
...
hadoctor.errors.InputError: netns:../etc: not a network namespace name
"""

from __future__ import annotations

import ctypes
import errno
import os
import threading
from typing import Callable, Optional, TypeVar

from hadoctor.errors import InputError, UsageError

CLONE_NEWNET = 0x40000000
NETNS_DIRS = ("/run/netns", "/var/run/netns")

T = TypeVar("T")


def netns_path(netns: str) -> str:
    """The file of the named namespace; InputError when there is no such namespace."""
    if not netns or os.sep in netns or netns in (".", ".."):
        raise InputError(f"netns:{netns}", "not a network namespace name", "see `ip netns list`")
    for folder in NETNS_DIRS:
        path = os.path.join(folder, netns)
        if os.path.exists(path):
            return path
    raise InputError(f"netns:{netns}", "no network namespace of that name", "see `ip netns list`")


def _setns(fd: int) -> None:
    if hasattr(os, "setns"):  # Python 3.12+
        os.setns(fd, CLONE_NEWNET)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def run_in_netns(netns: Optional[str], fn: Callable[[], T]) -> T:
    """``fn()`` run in network namespace ``netns`` (here when None); its exception is re-raised."""
    if netns is None:
        return fn()
    path = netns_path(netns)
    box: dict = {}

    def work() -> None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                _setns(fd)
            finally:
                os.close(fd)
            box["entered"] = True
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = exc
        # the thread ends here: nothing else ever runs in the namespace it entered

    worker = threading.Thread(target=work, name=f"hadoctor-netns-{netns}", daemon=True)
    worker.start()
    worker.join()
    error = box.get("error")
    if isinstance(error, OSError) and error.errno in (errno.EPERM, errno.EACCES) and "entered" not in box:
        raise UsageError(f"cannot enter network namespace {netns}: {error.strerror or error}",
                         "entering another network namespace needs root (CAP_SYS_ADMIN)")
    if error is not None:
        raise error
    return box["value"]
