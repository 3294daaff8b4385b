"""Run a POSIX shell script on a node: this host, or another one through the system OpenSSH client.

Bundles and ``fix --authkeys`` talk to nodes only through :class:`Shell`. The script travels
on the shell's standard input (``sh -s``), so nothing secret ever appears in an argument
list (``ps`` shows argv to every user), and the remote side needs only a POSIX ``sh``: old
CentOS nodes without Python 3 are fine.

Over SSH we run the ``ssh`` binary, never a library, so the user's ``~/.ssh/config``, agent,
keys and known_hosts apply exactly as when they type ``ssh NODE``. We add only
``BatchMode=yes`` (never a password prompt that would hang a run) and a connect timeout.

Every run has a timeout. On expiry the whole process group is killed and the result says
``timed_out``; an unreachable host is a result (``rc`` 255 and the reason), not an exception.

>>> r = LocalShell("here").run("echo out; echo err >&2; exit 3", timeout=10)
>>> (r.rc, r.stdout, r.stderr, r.ok, r.timed_out)
(3, b'out\\n', b'err\\n', False, False)
>>> LocalShell("here").run("sleep 5", timeout=0.2).timed_out
True
>>> SshShell("node02", SshOptions(config="/x/ssh_config")).argv()[-2:]
['node02', 'sh -s']
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import BinaryIO, List, Optional, Sequence, Tuple

from hadoctor.datums import HACF_PATH, NODEINFO_PATH

#: ssh's own exit status when it could not connect or authenticate (not the remote script's)
SSH_FAILED = 255


def quote(value: str) -> str:
    """Quote one word for a POSIX shell script."""
    return shlex.quote(value)


@dataclass
class RunResult:
    """What one script run did. ``rc`` is None when the script never finished (timeout or
    could not start); ``error`` then says why."""

    node: str
    where: str                      # "local" or "ssh HOST"
    rc: Optional[int]
    stdout: bytes
    stderr: bytes
    duration_s: float
    timed_out: bool = False
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.timed_out and self.error is None

    @property
    def reason(self) -> str:
        """One line for people: why it did not succeed ('' when it did)."""
        if self.ok:
            return ""
        if self.error:
            return self.error
        if self.timed_out:
            return f"timed out after {self.duration_s:.1f} s"
        tail = self.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"exit status {self.rc}" + (f": {tail[-1]}" if tail else "")


@dataclass(frozen=True)
class SshOptions:
    """How to reach other nodes. ``config`` is ``ssh -F FILE``; ``options`` are ``-o K=V``."""

    config: Optional[str] = None
    options: Tuple[str, ...] = ()
    user: Optional[str] = None
    port: Optional[int] = None
    connect_timeout: float = 10.0
    binary: str = "ssh"

    @classmethod
    def from_cli(cls, config: Optional[str], options: Optional[Sequence[str]], *, user: Optional[str] = None,
                 connect_timeout: float = 10.0) -> "SshOptions":
        """``--ssh-config``/``--ssh-option K=V``/``--ssh-user`` as given on a command line; a malformed
        option is a usage error.

        >>> SshOptions.from_cli(None, ["Port=2222"]).options
        ('Port=2222',)
        """
        from hadoctor.errors import UsageError

        for opt in options or ():
            if "=" not in opt or opt.startswith(("=", "-")):
                raise UsageError(f"--ssh-option {opt!r} is not K=V", "e.g. --ssh-option Port=2222")
        return cls(config=config, options=tuple(options or ()), user=user, connect_timeout=connect_timeout)


class Shell:
    """Where scripts run. Subclasses give the command line that reads a script on stdin."""

    node: str
    where: str

    def argv(self) -> List[str]:
        raise NotImplementedError

    def run(self, script: str, *, timeout: float, stdout: Optional[BinaryIO] = None) -> RunResult:
        """Run ``script`` with ``sh -s``. With ``stdout`` (a binary file), the output streams there
        instead of into memory (logs can be large); ``RunResult.stdout`` is then empty."""
        argv = self.argv()
        t0 = time.monotonic()
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                    stdout=stdout if stdout is not None else subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            return RunResult(self.node, self.where, None, b"", b"", time.monotonic() - t0,
                             error=f"cannot run {argv[0]}: {exc.strerror or exc}")
        try:
            out, err = proc.communicate(script.encode(), timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            kill_group(proc)
            try:
                out, err = proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:  # a grandchild holds the pipes open
                out, err = b"", b""
            timed_out = True
        duration = time.monotonic() - t0
        result = RunResult(self.node, self.where, None if timed_out else proc.returncode,
                           out or b"", err or b"", duration, timed_out=timed_out)
        return self._classify(result)

    def _classify(self, result: RunResult) -> RunResult:
        return result


class LocalShell(Shell):
    """This host (``/bin/sh -s``)."""

    def __init__(self, node: str, shell: str = "/bin/sh"):
        self.node = node
        self.where = "local"
        self.shell = shell

    def argv(self) -> List[str]:
        return [self.shell, "-s"]


class SshShell(Shell):
    """Another host through the system ``ssh`` client (``ssh [opts] -- HOST sh -s``)."""

    def __init__(self, host: str, options: SshOptions = SshOptions(), node: Optional[str] = None):
        if not host or host.startswith("-") or any(c.isspace() for c in host):
            raise ValueError(f"not a host name: {host!r}")
        self.host = host
        self.node = node or host
        self.where = f"ssh {host}"
        self.options = options

    def argv(self) -> List[str]:
        o = self.options
        argv = [o.binary, "-T", "-o", "BatchMode=yes",
                "-o", f"ConnectTimeout={max(1, int(round(o.connect_timeout)))}",
                "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"]
        if o.config:
            argv += ["-F", o.config]
        for opt in o.options:
            argv += ["-o", opt]
        if o.user:
            argv += ["-l", o.user]
        if o.port:
            argv += ["-p", str(o.port)]
        return argv + ["--", self.host, "sh -s"]

    def _classify(self, result: RunResult) -> RunResult:
        if result.rc == SSH_FAILED and result.error is None:
            lines = [ln for ln in result.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
            why = lines[-1].strip() if lines else "ssh failed"
            result.error = f"cannot reach {self.host} over ssh: {why}"
        return result


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group a run started (start_new_session=True), children included."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


#: First lines of every script we send: no unset variables, C locale, sbin on PATH (non-login ssh
#: sessions on old distributions lack it, and ip/iptables/chkconfig live there).
SCRIPT_HEADER = 'set -u\nLC_ALL=C; export LC_ALL\nPATH="$PATH:/sbin:/usr/sbin:/usr/local/sbin"; export PATH\n'


@dataclass(frozen=True)
class NodePlan:
    """Which nodes a cluster-wide command talks to, and which of them is this host."""

    local: Optional[str]          # the node this command runs on (None: not a cluster member)
    nodes: Tuple[str, ...]        # every node, the local one first
    host: str = field(default="", repr=False)   # this host's name, member or not

    @property
    def remote(self) -> Tuple[str, ...]:
        return tuple(n for n in self.nodes if n != self.local)

    def shells(self, ssh: SshOptions) -> List[Shell]:
        """One shell per node: this host runs locally, the others over ssh. A name ssh would take
        for an option is a usage error."""
        from hadoctor.errors import UsageError

        try:
            return [LocalShell(n) if n == self.local else SshShell(n, ssh) for n in self.nodes]
        except ValueError as err:
            raise UsageError(str(err), "give node names as heartbeat knows them (uname -n)") from None


def plan_nodes(explicit: Sequence[str], declared: Sequence[str], local_name: str) -> NodePlan:
    """``--node`` names when given, else ha.cf's ``node`` list; this host (``local_name``, from
    nodeinfo or ``uname -n``, compared as heartbeat does: case-insensitively) runs locally.

    >>> plan_nodes([], ["node01", "node02"], "NODE02")
    NodePlan(local='node02', nodes=('node02', 'node01'))
    >>> plan_nodes(["db2"], ["db1", "db2"], "db1").remote
    ('db2',)
    """
    names: List[str] = []
    for n in list(explicit) or list(declared):
        n = n.strip().lower()
        if n and n not in names:
            names.append(n)
    me = local_name.strip().lower()
    if explicit and me in [d.lower() for d in declared] and me not in names:
        names.insert(0, me)          # --node names the peers; this member is always included
    local = me if me in names else None
    ordered = ([local] if local else []) + [n for n in names if n != local]
    return NodePlan(local, tuple(ordered), me)


def local_node_name(root: str = "/") -> str:
    """This host's heartbeat node name: the first line of /etc/ha.d/nodeinfo (below ``root``) when
    present, else ``uname -n``; lower case, as heartbeat compares names."""
    from hadoctor.errors import InputError
    from hadoctor.inputs import read_bytes, under_root

    try:
        first = read_bytes(under_root(root, NODEINFO_PATH), limit=4096).decode("utf-8", "replace")
        name = first.splitlines()[0].strip() if first.strip() else ""
        if name:
            return name.lower()
    except InputError:
        pass
    return os.uname().nodename.lower()


def host_plan(explicit: Sequence[str], root: str = "/") -> NodePlan:
    """:func:`plan_nodes` for this host: ``--node`` names or ha.cf's node list (read below ``root``; an
    absent or unreadable ha.cf lists none, the caller says what to do), this host first."""
    from hadoctor.errors import InputError
    from hadoctor.inputs import read_config, under_root
    from hadoctor.parsers.hacf import parse_hacf

    path = under_root(root, HACF_PATH)
    try:
        declared = parse_hacf(read_config(path), path).node_names
    except InputError:
        declared = []
    return plan_nodes(explicit, declared, local_node_name(root))
