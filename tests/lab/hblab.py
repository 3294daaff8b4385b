"""A real Linux-HA Heartbeat lab on one machine, built from Linux namespaces.

Every node is a real ``/usr/libexec/heartbeat/heartbeat`` (Debian 3.0.6) in its own
network, mount, UTS and PID namespaces:

* a switch namespace ``<prefix>-sw`` holds a bridge ``br0`` (address ``<subnet>.1``, the
  nodes' default gateway; nothing is forwarded anywhere, nothing touches the root
  namespace);
* every node namespace ``<prefix>-<node>`` has a veth ``eth0`` whose peer ``v-<node>``
  is enslaved to ``br0``; addresses ``<subnet>.11``, ``.12``, ...; the VIP is
  ``<subnet>.100`` (a second VIP ``.101`` for a second cluster);
* optional *observers* (``Lab(..., observers=("obs",))``): namespaces ``<prefix>-<name>``
  with only an ``eth0`` on ``br0`` (``<subnet>.201``, ``.202``...), no heartbeat and no
  anchor: a third host on the segment, e.g. to ask the network who holds the VIP;
* an *anchor* per node (``ip netns exec NS unshare -m -u -p --fork --mount-proc ...``) is
  PID 1 of the node's PID namespace and holds its hostname and private bind mounts over
  ``/etc/ha.d``, ``/var/lib/heartbeat``, ``/run`` and ``/var/log``, taken from
  ``<workdir>/<node>/{ha.d,lib,run,log}``. Every command for a node runs through
  ``nsenter -t <anchor> -n -m -u -p``. ``reboot``/``init`` in a node only end that node.

Safety: only addresses in 10.250.0.0/16 are used, and teardown (``Lab.down``) kills every
process of the lab's namespaces and deletes them. It runs from the context manager, from
``atexit`` and on SIGTERM/SIGHUP; a later ``Lab.up`` with the same prefix first removes
whatever a killed (SIGKILL) run left, and ``cleanup_stale()`` removes every ``hbl-`` lab
whose owner process died.

Only root can use it; importing it is harmless. See tests/fixtures/lab/README.md.

>>> ha_cf(["node01", "node02"]).splitlines()[3:6]
['keepalive 1', 'deadtime 5', 'warntime 3']
>>> authkeys_text("1 sha1 lab-fixture-key-not-secret")
'auth 1\\n1 sha1 lab-fixture-key-not-secret\\n'
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Sequence

HB = "/usr/libexec/heartbeat/heartbeat"
CL_STATUS = "/usr/bin/cl_status"
ALLOWED_NET = ipaddress.ip_network("10.250.0.0/16")
DEFAULT_PREFIX = "hbl-"            # every lab namespace name starts with this
WORK_ROOT = Path(os.environ.get("HBLAB_WORKDIR", "/tmp/hbl"))
FAKE_KEY = "1 sha1 lab-fixture-key-not-secret"
OTHER_FAKE_KEY = "1 sha1 other-lab-fixture-key-not-secret"
PACKAGES = ("heartbeat", "cluster-glue", "resource-agents", "libheartbeat2")
HA_UDP_PORT = 694

#: Set to make every lab wait raise LabAborted (Ctrl-C, SIGTERM): worker threads stop fast.
ABORT = threading.Event()

_LIVE: dict[int, "Lab"] = {}
_LIVE_LOCK = threading.Lock()
_ATEXIT_INSTALLED = False
_SIGNALS_INSTALLED = False


class LabError(RuntimeError):
    """The lab could not be built or a lab command failed."""


class LabAborted(LabError):
    """ABORT was set (interrupt or signal) while a lab was waiting."""


# --------------------------------------------------------------------------- helpers

def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def lab_available() -> tuple[bool, str]:
    """(True, "") when this process can run labs, else (False, reason)."""
    if os.geteuid() != 0:
        return False, "the heartbeat lab needs root (network/mount/UTS namespaces)"
    if not os.access(HB, os.X_OK):
        return False, f"{HB} is absent: apt-get install heartbeat resource-agents cluster-glue"
    for tool, pkg in (("ip", "iproute2"), ("nsenter", "util-linux"), ("unshare", "util-linux"),
                      ("iptables", "iptables"), ("nft", "nftables"), ("tcpdump", "tcpdump"),
                      ("ifconfig", "net-tools: the IPaddr agent needs it"),
                      ("cl_status", "heartbeat")):
        if shutil.which(tool) is None and not os.access(f"/usr/sbin/{tool}", os.X_OK):
            return False, f"{tool} is not installed ({pkg})"
    return True, ""


def sleep(seconds: float) -> None:
    """Abortable sleep."""
    if ABORT.wait(max(0.0, seconds)):
        raise LabAborted("lab aborted")


def run(cmd: Sequence[str], *, timeout: float = 30, check: bool = False,
        input: bytes | None = None) -> subprocess.CompletedProcess:
    """Run a command, capture bytes stdout/stderr."""
    try:
        cp = subprocess.run(list(cmd), input=input, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, timeout=timeout,
                            stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"timeout after {timeout}s: {' '.join(cmd)}") from exc
    if check and cp.returncode != 0:
        raise LabError(f"{' '.join(cmd)} -> rc {cp.returncode}: "
                       f"{cp.stderr.decode(errors='replace').strip()}")
    return cp


def netns_list() -> list[str]:
    cp = run(["ip", "netns", "list"])
    return [line.split()[0] for line in cp.stdout.decode().splitlines() if line.strip()]


def netns_pids(ns: str) -> list[int]:
    cp = run(["ip", "netns", "pids", ns])
    return [int(p) for p in cp.stdout.split() if p.strip().isdigit()]


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _exe(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


def destroy_namespaces(names: Iterable[str]) -> None:
    """SIGKILL every process in the given namespaces, then delete them (idempotent)."""
    names = [n for n in names]
    existing = set(netns_list())
    names = [n for n in names if n in existing]
    for _ in range(50):
        pids = [p for ns in names for p in netns_pids(ns)]
        if not pids:
            break
        for p in pids:
            _kill(p, signal.SIGKILL)
        time.sleep(0.1)
    for ns in names:
        run(["ip", "netns", "del", ns])


def cleanup_stale(prefix: str = DEFAULT_PREFIX) -> list[str]:
    """Remove labs left by dead processes: namespaces named ``prefix*`` whose owner
    (recorded in ``<WORK_ROOT>/<labprefix>/owner``) is not alive. Returns what it removed."""
    removed = []
    for ns in netns_list():
        if not ns.startswith(prefix):
            continue
        lab_prefix = ns.rsplit("-", 1)[0]
        owner = WORK_ROOT / lab_prefix / "owner"
        alive = False
        try:
            pid = int(owner.read_text().split()[0])
            alive = pid != os.getpid() and Path(f"/proc/{pid}").exists()
            alive = alive or any(lab.prefix == lab_prefix for lab in list(_LIVE.values()))
        except (OSError, ValueError, IndexError):
            pass
        if not alive:
            destroy_namespaces([ns])
            removed.append(ns)
            shutil.rmtree(WORK_ROOT / lab_prefix, ignore_errors=True)
    return removed


def leftovers(prefix: str = DEFAULT_PREFIX) -> dict[str, list[str]]:
    """What labs named ``prefix*`` left behind; all lists empty means clean.

    netns: namespaces named ``prefix*``; links: any ``v-*``/``w-*``/``prefix*`` link in the
    root namespace (the lab never creates one there); mounts: ``/run/netns/prefix*`` or lab
    work dirs in our mount table; processes: anything whose command line or mount table
    mentions a lab work dir (anchors, heartbeat, send_arp, tcpdump ...), plus, for the
    default prefix, any heartbeat/send_arp process outside the root network namespace;
    workdirs: ``<WORK_ROOT>/prefix*`` folders.
    """
    out: dict[str, list[str]] = {"netns": [], "links": [], "mounts": [], "processes": [],
                                 "workdirs": []}
    out["netns"] = [ns for ns in netns_list() if ns.startswith(prefix)]
    if WORK_ROOT.is_dir():
        out["workdirs"] = sorted(str(p) for p in WORK_ROOT.glob(f"{prefix}*"))
    cp = run(["ip", "-o", "link", "show"])
    for line in cp.stdout.decode(errors="replace").splitlines():
        parts = line.split(":")
        name = parts[1].strip().split("@")[0] if len(parts) > 1 else ""
        if name.startswith(("v-", "w-", prefix)):
            out["links"].append(name)
    marker = f"{WORK_ROOT.name}/{prefix}"        # e.g. "hbl/hbl-t-ok"
    try:
        mounts = Path("/proc/self/mountinfo").read_text()
    except OSError:
        mounts = ""
    out["mounts"] = [m for m in mounts.splitlines() if f"/netns/{prefix}" in m or marker in m]
    own_net = os.readlink("/proc/self/ns/net")
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            stat = (d / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                continue          # a zombie is gone already; its parent just did not reap yet
            cmdline = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            net = os.readlink(d / "ns" / "net")
        except (OSError, IndexError):
            continue
        try:
            minfo = (d / "mountinfo").read_text()
        except OSError:
            minfo = ""
        exe = os.path.basename(_exe(int(d.name)))
        hit = marker in cmdline or marker in minfo
        if prefix == DEFAULT_PREFIX and exe in ("heartbeat", "send_arp") and net != own_net:
            hit = True
        if hit:
            out["processes"].append(f"{d.name} {exe}: {cmdline.strip()[:150]}")
    return out


def teardown_all(*_a) -> None:
    """Tear down every live lab of this process (atexit, signals).

    Only labs this very process brought up: a forked child (pyroute2's netns helper,
    multiprocessing) inherits ``_LIVE`` and the SIGTERM handler, and being terminated
    must not make it kill its parent's lab."""
    with _LIVE_LOCK:
        labs = [lab for lab in _LIVE.values() if lab._owner_pid == os.getpid()]
    for lab in labs:
        try:
            lab.down()
        except Exception:  # pragma: no cover - best effort at exit
            pass


def install_teardown_handlers() -> None:
    """atexit teardown, and teardown on SIGTERM/SIGHUP (then the default action). SIGINT
    is Python's KeyboardInterrupt, which unwinds the ``with Lab`` blocks; runners set ABORT.
    Signal handlers only from the main thread and never over someone else's handler."""
    global _ATEXIT_INSTALLED, _SIGNALS_INSTALLED
    if not _ATEXIT_INSTALLED:
        _ATEXIT_INSTALLED = True
        atexit.register(_atexit_teardown)
    if _SIGNALS_INSTALLED or threading.current_thread() is not threading.main_thread():
        return
    _SIGNALS_INSTALLED = True
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) not in (signal.SIG_DFL, None):
            continue

        def handler(signum, frame, _sig=sig):
            ABORT.set()
            teardown_all()
            signal.signal(_sig, signal.SIG_DFL)
            os.kill(os.getpid(), _sig)

        signal.signal(sig, handler)


def _atexit_teardown() -> None:
    if _LIVE:
        ABORT.set()          # daemon threads still inside a scenario stop at their next wait
        teardown_all()


# --------------------------------------------------------------------------- config text

def ha_cf(members: Sequence[str], *, keepalive: str = "1", deadtime: str = "5",
          warntime: str = "3", initdead: str = "10", udpport: int | None = HA_UDP_PORT,
          media: Sequence[str] = ("bcast eth0",), auto_failback: str = "on",
          realtime: str | None = "off", logfacility: str | None = "local0",
          logfile: str = "/var/log/heartbeat.log", debugfile: str | None = None,
          extra: Sequence[str] = (), comment: str = "") -> str:
    """The text of an R1 (haresources) ha.cf. ``None`` leaves a directive out."""
    lines = [f"# /etc/ha.d/ha.cf {comment}".rstrip()]
    lines.append(f"logfile {logfile}")
    if debugfile:
        lines.append(f"debugfile {debugfile}")
    if logfacility:
        lines.append(f"logfacility {logfacility}")
    for key, value in (("keepalive", keepalive), ("deadtime", deadtime),
                       ("warntime", warntime), ("initdead", initdead), ("udpport", udpport)):
        if value is not None:
            lines.append(f"{key} {value}")
    lines.extend(media)
    lines.append(f"auto_failback {auto_failback}")
    lines.extend(f"node {m}" for m in members)
    lines.append("crm no")
    if realtime is not None:
        lines.append(f"realtime {realtime}")
    lines.extend(extra)
    return "\n".join(lines) + "\n"


def authkeys_text(key_line: str = FAKE_KEY, active: int | None = None) -> str:
    """``auth N`` + one key line. Only ever use fake, non-secret keys: fixtures get committed."""
    num = active if active is not None else int(key_line.split()[0])
    return f"auth {num}\n{key_line}\n"


# --------------------------------------------------------------------------- the lab

@dataclass
class Node:
    name: str
    ip: str
    hostname: str
    anchor: subprocess.Popen | None = None   # `unshare` (parent of the PID namespace)
    init_pid: int = 0                          # PID 1 of the node's PID namespace
    start_rc: list[int] = field(default_factory=list)


class Lab:
    """N heartbeat nodes in namespaces ``<prefix>-<node>`` on bridge ``<prefix>-sw``/br0.

    ``with Lab("hbl-demo", subnet="10.250.7") as lab:`` builds it (``up``) and always
    tears it down. See the module docstring.
    """

    def __init__(self, name_prefix: str, nodes: Sequence[str] = ("node01", "node02"),
                 subnet: str = "10.250.1", *, hostnames: dict[str, str] | None = None,
                 gateway: bool = True,
                 second_nic: bool = True, keep_workdir: bool = False,
                 observers: Sequence[str] = ()):
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,30}", name_prefix):
            raise ValueError(f"bad lab prefix {name_prefix!r}")
        net = ipaddress.ip_network(f"{subnet}.0/24")
        if not net.subnet_of(ALLOWED_NET):
            raise ValueError(f"subnet {subnet} is outside 10.250.0.0/16")
        self.index = int(subnet.split(".")[2])
        if second_nic and self.index >= 128:
            raise ValueError("second_nic needs a subnet index below 128")
        self.prefix = name_prefix
        self.subnet = subnet
        self.network = net
        self.gateway = gateway
        self.second_nic = second_nic
        self.keep_workdir = keep_workdir
        self.workdir = WORK_ROOT / name_prefix
        hostnames = hostnames or {}
        self.nodes: dict[str, Node] = {}
        for i, n in enumerate(nodes):
            if not re.fullmatch(r"[a-z0-9]{1,13}", n) or n == "sw":
                raise ValueError(f"bad node name {n!r}")
            self.nodes[n] = Node(n, f"{subnet}.{11 + i}", hostnames.get(n, n))
        #: observer namespaces ``<prefix>-<name>``: eth0 on br0 with ``<subnet>.201``, ``.202``...,
        #: no heartbeat, no anchor (a third host on the segment, e.g. to probe the VIP from)
        self.observers: dict[str, str] = {}
        for i, n in enumerate(observers):
            if not re.fullmatch(r"[a-z0-9]{1,13}", n) or n == "sw" or n in self.nodes:
                raise ValueError(f"bad observer name {n!r}")
            self.observers[n] = f"{subnet}.{201 + i}"
        self.vip = f"{subnet}.100"
        self.vip2 = f"{subnet}.101"
        self.t0 = time.monotonic()
        self.events: list[dict] = []
        self._lock = threading.RLock()
        self._up = False
        self._closed = False
        self._pcap: subprocess.Popen | None = None
        self._pcap_file: Path | None = None
        self._firewall: dict[str, list[list[str]]] = {}
        self._owner_pid = os.getpid()      # the process that brought the lab up (up())

    # ----- names
    @property
    def switch_ns(self) -> str:
        return f"{self.prefix}-sw"

    def ns(self, node: str) -> str:
        return f"{self.prefix}-{node}"

    def namespaces(self) -> list[str]:
        return [self.ns(n) for n in self.nodes] + [self.ns(o) for o in self.observers] + [self.switch_ns]

    def node_dir(self, node: str) -> Path:
        return self.workdir / node

    def ip(self, node: str) -> str:
        """The eth0 address of a node or an observer."""
        return self.nodes[node].ip if node in self.nodes else self.observers[node]

    def mac(self, node: str, ifname: str = "eth0") -> str:
        """The MAC address of ``ifname`` in a node's or observer's network namespace."""
        cp = run(["ip", "-n", self.ns(node), "-j", "link", "show", "dev", ifname], check=True)
        return json.loads(cp.stdout)[0]["address"]

    def media(self, members: Sequence[str]) -> tuple:
        """Two heartbeat paths, as admin guides advise: bcast on eth0 and ucast on the second link to each
        member (the same file on every node; the line to the node itself is harmless). One path without
        a second NIC."""
        if not self.second_nic:
            return ("bcast eth0",)
        return ("bcast eth0",) + tuple(f"ucast eth1 {self.second_ip(m)}" for m in members if m in self.nodes)

    def _script_listing(self, node: str) -> bytes:
        """`x PATH` / `- PATH` for the node's resource.d (its private /etc/ha.d) and /etc/init.d."""
        lines = []
        for folder, real in (("/etc/ha.d/resource.d", self.node_dir(node) / "ha.d" / "resource.d"),
                             ("/etc/init.d", Path("/etc/init.d"))):
            if real.is_dir():
                for f in sorted(real.iterdir()):
                    if f.is_file():
                        lines.append(f"{'x' if os.access(f, os.X_OK) else '-'} {folder}/{f.name}")
        return ("\n".join(lines) + "\n").encode()

    def second_ip(self, node: str) -> str:
        i = list(self.nodes).index(node)
        return f"10.250.{self.index + 128}.{11 + i}"

    # ----- lifecycle
    def __enter__(self) -> "Lab":
        self.up()
        return self

    def __exit__(self, *exc) -> None:
        self.down()

    def up(self) -> "Lab":
        """Build the lab. Idempotent: whatever an earlier run with this prefix left (a
        killed process) is removed first; refuses a prefix a live process is using."""
        install_teardown_handlers()
        with self._lock:
            if ABORT.is_set():
                raise LabAborted("lab aborted")
            with _LIVE_LOCK:
                twins = [x for x in _LIVE.values() if x is not self and x.prefix == self.prefix]
            if twins:
                raise LabError(f"lab prefix {self.prefix} is in use in this process")
            if set(self.namespaces()) & set(netns_list()):
                try:
                    owner = int((self.workdir / "owner").read_text().split()[0])
                except (OSError, ValueError, IndexError):
                    owner = 0
                if owner and owner != os.getpid() and Path(f"/proc/{owner}").exists():
                    raise LabError(f"lab prefix {self.prefix} is in use by live pid {owner}")
            self._owner_pid = os.getpid()
            with _LIVE_LOCK:
                _LIVE[id(self)] = self
            self.down(_keep_registered=True)
            self._closed = False
            self.workdir.mkdir(parents=True, exist_ok=True)
            (self.workdir / "owner").write_text(f"{os.getpid()}\n")
            self.t0 = time.monotonic()
            self.events = []
            self.event("lab_up", subnet=str(self.network), vip=self.vip,
                       nodes={n: {"ip": x.ip, "hostname": x.hostname}
                              for n, x in self.nodes.items()})
            try:
                self._net_up()
                for n in self.nodes:
                    self._prepare_node(n)
                    self._anchor(n)
            except BaseException:
                self.down()
                raise
            self._up = True
            return self

    def down(self, _keep_registered: bool = False) -> None:
        """Kill every lab process, delete the namespaces, remove the work dir (idempotent)."""
        with self._lock:
            self._closed = True
            if self._pcap is not None:
                self.stop_pcap()
            destroy_namespaces(self.namespaces())
            for node in self.nodes.values():
                self._drop_anchor(node)
            self._up = False
            if not self.keep_workdir and self.workdir.exists():
                shutil.rmtree(self.workdir, ignore_errors=True)
            if not _keep_registered:
                with _LIVE_LOCK:
                    _LIVE.pop(id(self), None)

    def _check_open(self) -> None:
        if ABORT.is_set():
            raise LabAborted("lab aborted")
        if self._closed:
            raise LabError(f"lab {self.prefix} is down")

    def _net_up(self) -> None:
        sw = self.switch_ns
        run(["ip", "netns", "add", sw], check=True)
        run(["ip", "-n", sw, "link", "set", "lo", "up"], check=True)
        run(["ip", "-n", sw, "link", "add", "br0", "type", "bridge", "stp_state", "0",
             "forward_delay", "0"], check=True)
        run(["ip", "-n", sw, "link", "set", "br0", "up"], check=True)
        if self.gateway:
            run(["ip", "-n", sw, "addr", "add", f"{self.subnet}.1/24", "dev", "br0"], check=True)
        if self.second_nic:
            run(["ip", "-n", sw, "link", "add", "br1", "type", "bridge", "stp_state", "0",
                 "forward_delay", "0"], check=True)
            run(["ip", "-n", sw, "link", "set", "br1", "up"], check=True)
        for n in self.nodes:
            ns = self.ns(n)
            run(["ip", "netns", "add", ns], check=True)
            run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
            run(["ip", "-n", sw, "link", "add", f"v-{n}", "type", "veth", "peer", "name",
                 "eth0", "netns", ns], check=True)
            run(["ip", "-n", sw, "link", "set", f"v-{n}", "master", "br0", "up"], check=True)
            run(["ip", "-n", ns, "addr", "add", f"{self.ip(n)}/24", "brd", "+", "dev", "eth0"],
                check=True)
            run(["ip", "-n", ns, "link", "set", "eth0", "up"], check=True)
            if self.gateway:
                run(["ip", "-n", ns, "route", "add", "default", "via", f"{self.subnet}.1"],
                    check=True)
            if self.second_nic:
                run(["ip", "-n", sw, "link", "add", f"w-{n}", "type", "veth", "peer", "name",
                     "eth1", "netns", ns], check=True)
                run(["ip", "-n", sw, "link", "set", f"w-{n}", "master", "br1", "up"], check=True)
                run(["ip", "-n", ns, "addr", "add", f"{self.second_ip(n)}/24", "brd", "+",
                     "dev", "eth1"], check=True)
                run(["ip", "-n", ns, "link", "set", "eth1", "up"], check=True)
        for o, ip in self.observers.items():
            ns = self.ns(o)
            run(["ip", "netns", "add", ns], check=True)
            run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
            run(["ip", "-n", sw, "link", "add", f"v-{o}", "type", "veth", "peer", "name",
                 "eth0", "netns", ns], check=True)
            run(["ip", "-n", sw, "link", "set", f"v-{o}", "master", "br0", "up"], check=True)
            run(["ip", "-n", ns, "addr", "add", f"{ip}/24", "brd", "+", "dev", "eth0"], check=True)
            run(["ip", "-n", ns, "link", "set", "eth0", "up"], check=True)

    def _prepare_node(self, n: str) -> None:
        d = self.node_dir(n)
        if d.exists():
            shutil.rmtree(d)
        (d / "run").mkdir(parents=True)
        (d / "log").mkdir()
        run(["cp", "-a", "/etc/ha.d", str(d / "ha.d")], check=True)
        run(["cp", "-a", "/var/lib/heartbeat", str(d / "lib")], check=True)
        for f in ("hb_uuid", "hb_generation", "hostcache", "delhostcache"):
            (d / "lib" / f).unlink(missing_ok=True)
        for sub in ("ha.cf", "haresources", "authkeys"):
            (d / "ha.d" / sub).unlink(missing_ok=True)
        self._make_run(d)

    @staticmethod
    def _make_run(d: Path) -> None:
        """/run as systemd-tmpfiles would leave it for heartbeat (owners from lab.md)."""
        for sub in ("heartbeat", "heartbeat/ccm", "heartbeat/crm", "heartbeat/dopd", "crm"):
            run(["install", "-d", "-m", "0750", "-o", "hacluster", "-g", "haclient",
                 str(d / "run" / sub)], check=True)
        run(["install", "-d", "-m", "1755", str(d / "run" / "resource-agents")], check=True)
        run(["install", "-d", "-m", "1777", str(d / "run" / "lock")], check=True)

    def _anchor(self, n: str) -> None:
        """Start the node's anchor: PID 1 of a new PID namespace with private mount and UTS
        namespaces, inside the node's network namespace. It is a bash loop, which reaps the
        daemons reparented to it. The PID namespace (with its own /proc) confines
        ResourceManager's ``pkill -9 heartbeat`` and glue's ``reboot(2)`` to the node (the
        kernel then just kills the namespace), and ``reboot``/``init`` (systemctl/systemd)
        are shadowed by a script that just ends the node's PID namespace (see ``reboots``)."""
        d = self.node_dir(n)
        node = self.nodes[n]
        guard = self.workdir / "reboot-guard"
        if not guard.exists():
            # `reboot -nf` / `init 6` inside a node: note it, then end the node's PID
            # namespace (its PID 1 exits on SIGTERM), like a power cycle that does not return.
            guard.write_text("#!/bin/sh\n"
                             f"echo \"$(uname -n) $0 $*\" >> {self.workdir}/reboots\n"
                             "kill -TERM 1\nexit 1\n")
            guard.chmod(0o755)
        script = (
            "set -e; hostname \"$1\"; "
            "mount --bind \"$2/ha.d\" /etc/ha.d; mount --bind \"$2/lib\" /var/lib/heartbeat; "
            "mount --bind \"$2/run\" /run; mount --bind \"$2/log\" /var/log; "
            "for f in /usr/bin/systemctl /usr/lib/systemd/systemd; do "
            "[ -e \"$f\" ] && mount --bind \"$3\" \"$f\"; done; "
            "set +e; trap 'exit 0' TERM; echo ready; "
            "while :; do sleep 3600 & wait $!; done"
        )
        errfile = self.workdir / f"anchor-{n}.err"
        with open(errfile, "ab") as err:
            p = subprocess.Popen(
                ["ip", "netns", "exec", self.ns(n), "unshare", "-m", "-u", "-p", "--fork",
                 "--mount-proc", "--propagation", "private", "/bin/bash", "-c", script,
                 "hbl-anchor", node.hostname, str(d), str(guard)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                start_new_session=True)
        node.anchor = p
        line = p.stdout.readline()  # "ready" once the mounts are in place
        p.stdout.close()
        if line.strip() != b"ready":
            raise LabError(f"anchor for {n} failed: {line!r} "
                           f"{errfile.read_text(errors='replace')[-1000:]}")
        children = Path(f"/proc/{p.pid}/task/{p.pid}/children").read_text().split()
        if len(children) != 1:
            raise LabError(f"anchor for {n}: unexpected children {children}")
        node.init_pid = int(children[0])

    # ----- config
    def write_config(self, node: str, *, ha_cf: str | None = None,
                     haresources: str | None = None, authkeys: str | None = None,
                     authkeys_mode: int = 0o600) -> None:
        d = self.node_dir(node) / "ha.d"
        if ha_cf is not None:
            (d / "ha.cf").write_text(ha_cf)
        if haresources is not None:
            (d / "haresources").write_text(haresources)
        if authkeys is not None:
            p = d / "authkeys"
            p.write_text(authkeys)
            os.chmod(p, authkeys_mode)

    def configure(self, *, members: Sequence[str] | None = None,
                  haresources: str | None = None, key: str = FAKE_KEY,
                  nodes: Iterable[str] | None = None, **ha_cf_kw) -> None:
        """Same ha.cf/haresources/authkeys on ``nodes`` (default all)."""
        members = list(members or self.nodes)
        if haresources is None:
            haresources = f"{members[0]} IPaddr::{self.vip}/24/eth0\n"
        ha_cf_kw.setdefault("media", self.media(members))
        for n in nodes or self.nodes:
            self.write_config(n, ha_cf=ha_cf(members, comment=f"on {n}", **ha_cf_kw),
                              haresources=haresources, authkeys=authkeys_text(key))

    # ----- running things in a node
    def alive(self, node: str) -> bool:
        """Does the node (its anchor / PID namespace) exist?"""
        a = self.nodes[node].anchor
        return a is not None and a.poll() is None

    def nsenter(self, node: str) -> list[str]:
        if not self.alive(node):
            raise LabError(f"node {node} is down (no anchor)")
        return ["nsenter", "-t", str(self.nodes[node].init_pid), "-n", "-m", "-u", "-p"]

    def exec(self, node: str, *cmd: str, timeout: float = 30,
             check: bool = False) -> subprocess.CompletedProcess:
        """Run in the node: its network, mount (/etc/ha.d, /run, ...), UTS and PID namespaces."""
        self._check_open()
        return run(self.nsenter(node) + list(cmd), timeout=timeout, check=check)

    def netexec(self, node: str, *cmd: str, timeout: float = 30,
                check: bool = False) -> subprocess.CompletedProcess:
        """Run in the node's (or observer's) network namespace only (works while the node is down)."""
        self._check_open()
        return run(["ip", "netns", "exec", self.ns(node)] + list(cmd), timeout=timeout,
                   check=check)

    def sh(self, node: str, *cmd: str, timeout: float = 30) -> str:
        return self.exec(node, *cmd, timeout=timeout).stdout.decode(errors="replace")

    # ----- timeline
    def elapsed(self) -> float:
        return round(time.monotonic() - self.t0, 3)

    def event(self, event: str, node: str | None = None, **data) -> dict:
        item = {"t": now_iso(), "elapsed_s": self.elapsed(), "event": event}
        if node is not None:
            item["node"] = node
        item.update(data)
        self.events.append(item)
        return item

    def expect(self, vip_holders: Sequence[str], note: str = "") -> None:
        """Record which node(s) should hold the VIP from now on."""
        self.event("expect", vip_holders=list(vip_holders), note=note)

    # ----- heartbeat control
    def start(self, node: str, *args: str) -> int:
        """Start heartbeat (it daemonizes). 0 = running, 6 = configuration refused."""
        cp = self.exec(node, HB, *args, timeout=60)
        self.nodes[node].start_rc.append(cp.returncode)
        self.event("start", node, rc=cp.returncode,
                   stderr=cp.stderr.decode(errors="replace").strip()[-2000:])
        return cp.returncode

    def start_all(self, nodes: Iterable[str] | None = None) -> dict[str, int]:
        return {n: self.start(n) for n in (nodes or self.nodes)}

    def stop(self, node: str) -> int:
        """Graceful stop (``heartbeat -k``, returns when shutdown completed)."""
        self.event("stop_requested", node)
        cp = self.exec(node, HB, "-k", timeout=90)
        self.event("stopped", node, rc=cp.returncode)
        return cp.returncode

    def pids(self, node: str) -> list[int]:
        """Every process in the node's network namespace except the anchor pair."""
        x = self.nodes[node]
        skip = {x.init_pid, x.anchor.pid if x.anchor else 0}
        return [p for p in netns_pids(self.ns(node)) if p not in skip]

    # ----- ssh: a real sshd per node (bundles and fix over SSH)
    @property
    def ssh_config(self) -> Path:
        """An ``ssh -F`` file: ``Host <node>`` for every node, root, the lab's own client key and
        known_hosts (strict checking). Valid from every node's namespaces and the root one."""
        return self._ssh_material() / "ssh_config"

    def _ssh_material(self) -> Path:
        d = self.workdir / "ssh"
        cfg = d / "ssh_config"
        if cfg.exists():
            return d
        d.mkdir(mode=0o700, exist_ok=True)
        for key, comment in (("id_ed25519", "hblab-client"), ("host_ed25519", "hblab-host")):
            if not (d / key).exists():
                run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(d / key)],
                    check=True)
        (d / "authorized_keys").write_text((d / "id_ed25519.pub").read_text())
        host_pub = (d / "host_ed25519.pub").read_text().split()
        (d / "known_hosts").write_text("".join(
            f"{n},{x.ip} {host_pub[0]} {host_pub[1]}\n" for n, x in self.nodes.items()))
        cfg.write_text("".join(
            f"Host {n}\n  HostName {x.ip}\n  User root\n  IdentityFile {d}/id_ed25519\n"
            f"  IdentitiesOnly yes\n  UserKnownHostsFile {d}/known_hosts\n"
            f"  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n"
            f"  HostKeyAlias {n}\n" for n, x in self.nodes.items()))
        return d

    def start_sshd(self, node: str, timeout: float = 15) -> None:
        """Start a real OpenSSH ``sshd`` inside the node (its network, mount and PID namespaces),
        listening on the node's eth0 address, key login for root only."""
        d = self._ssh_material()
        conf = d / f"sshd_config-{node}"
        conf.write_text(
            f"ListenAddress {self.ip(node)}\nPort 22\nHostKey {d}/host_ed25519\n"
            f"AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
            "StrictModes no\nPidFile none\nLogLevel ERROR\nPrintMotd no\n")
        run(["install", "-d", "-m", "0755", str(self.node_dir(node) / "run" / "sshd")], check=True)
        with open(self.workdir / f"sshd-{node}.log", "ab") as err:
            subprocess.Popen(self.nsenter(node) + ["/usr/sbin/sshd", "-D", "-e", "-f", str(conf)],
                             stdin=subprocess.DEVNULL, stdout=err, stderr=err, start_new_session=True)
        if self.wait(lambda: self.sshd_listening(node), timeout, f"sshd on {node}") is None:
            tail = (self.workdir / f"sshd-{node}.log").read_text(errors="replace")[-1000:]
            raise LabError(f"sshd on {node} did not start listening: {tail}")
        self.event("sshd_started", node)

    def sshd_listening(self, node: str) -> bool:
        cp = self.netexec(node, "ss", "-Hltn", f"src {self.ip(node)}:22")
        return bool(cp.stdout.strip())

    def stop_sshd(self, node: str) -> None:
        """Stop the node's sshd (the node stays up: a host whose ssh is down)."""
        self.exec(node, "pkill", "-KILL", "-x", "sshd")
        self.wait(lambda: not self.sshd_listening(node), 10, f"sshd on {node} gone")
        self.event("sshd_stopped", node)

    def reboots(self) -> list[str]:
        """``reboot``/``init`` calls intercepted in the nodes ("<uname -n> <cmd> <args>")."""
        try:
            return (self.workdir / "reboots").read_text().splitlines()
        except OSError:
            return []

    def hb_pids(self, node: str) -> list[int]:
        return [p for p in self.pids(node) if _exe(p) == HB]

    def crash(self, node: str, link_down: bool = True) -> None:
        """Power loss: SIGKILL the node's PID namespace (every process at once), link down.
        The node's addresses stay configured until ``reboot``."""
        self._check_open()
        x = self.nodes[node]
        # Kill first: with the link downed first, a heartbeat still running for a few
        # milliseconds logs send errors that a real power loss never writes.
        self._drop_anchor(x)
        if link_down:
            self.netexec(node, "ip", "link", "set", "eth0", "down")
        self.event("crash", node, link_down=link_down)

    @staticmethod
    def _drop_anchor(x: Node) -> None:
        """End the node's PID namespace (SIGKILL to its PID 1 kills all of it)."""
        if x.anchor is None:
            return
        if x.anchor.poll() is None:
            _kill(x.init_pid, signal.SIGKILL)
            try:
                x.anchor.wait(timeout=10)
            except subprocess.TimeoutExpired:
                x.anchor.kill()
                x.anchor.wait()
        x.anchor = None

    def reboot(self, node: str) -> None:
        """Bring a crashed node back without starting heartbeat: fresh /run, only the
        node's own addresses on eth0, link up, new anchor (new PID/mount/UTS namespaces)."""
        self._check_open()
        if self.alive(node):
            self.crash(node, link_down=False)
        self._drop_anchor(self.nodes[node])
        cp = self.netexec(node, "ip", "-j", "-4", "addr", "show", "dev", "eth0")
        for link in json.loads(cp.stdout or b"[]"):
            for a in link.get("addr_info", []):
                if a["local"] != self.ip(node):
                    self.netexec(node, "ip", "addr", "del", f"{a['local']}/{a['prefixlen']}",
                                 "dev", "eth0")
        d = self.node_dir(node)
        shutil.rmtree(d / "run", ignore_errors=True)
        (d / "run").mkdir()
        self._make_run(d)
        self.netexec(node, "ip", "link", "set", "eth0", "up")
        self._anchor(node)
        self.event("reboot", node)

    def freeze(self, node: str) -> list[int]:
        """SIGSTOP every heartbeat process of the node (a stalled machine)."""
        pids = self.hb_pids(node)
        for p in pids:
            _kill(p, signal.SIGSTOP)
        self.event("freeze", node, pids=pids)
        return pids

    def thaw(self, node: str) -> None:
        pids = self.hb_pids(node)
        for p in pids:
            _kill(p, signal.SIGCONT)
        self.event("thaw", node, pids=pids)

    # ----- firewall (inside the node namespaces only)
    def block_heartbeats(self, node: str, from_nodes: Iterable[str], tool: str = "iptables") -> None:
        """Drop incoming heartbeat UDP (dport 694) on ``node`` from ``from_nodes``
        (INPUT filtering: bcast goes to the broadcast address, an OUTPUT -d rule would miss)."""
        srcs = [self.ip(s) for s in from_nodes]
        if self.second_nic:  # every path: a partition drops both links' heartbeats
            srcs += [self.second_ip(s) for s in from_nodes]
        for src in srcs:
            if tool == "iptables":
                rule = ["INPUT", "-p", "udp", "--dport", str(HA_UDP_PORT), "-s", src, "-j", "DROP"]
                self.netexec(node, "iptables", "-I", *rule, check=True)
                self._firewall.setdefault(node, []).append(rule)
            elif tool == "nft":
                for cmd in ("add table inet hblab",
                            "add chain inet hblab input { type filter hook input priority 0 ; "
                            "policy accept ; }",
                            f"add rule inet hblab input ip saddr {src} udp dport "
                            f"{HA_UDP_PORT} counter drop"):
                    self.netexec(node, "nft", cmd, check=True)
                if ["nft"] not in self._firewall.get(node, []):
                    self._firewall.setdefault(node, []).append(["nft"])
            else:
                raise ValueError(f"tool must be iptables or nft, not {tool!r}")
        self.event("block_heartbeats", node, from_nodes=list(from_nodes), tool=tool)

    def unblock_heartbeats(self, node: str) -> None:
        for rule in self._firewall.pop(node, []):
            if rule == ["nft"]:
                self.netexec(node, "nft", "delete table inet hblab")
            else:
                self.netexec(node, "iptables", "-D", *rule)
        self.event("unblock_heartbeats", node)

    def partition(self, a: str, b: str, both_ways: bool = True, tool: str = "iptables") -> None:
        """``a`` stops hearing ``b`` (and, both ways, ``b`` stops hearing ``a``)."""
        self.block_heartbeats(a, [b], tool)
        if both_ways:
            self.block_heartbeats(b, [a], tool)
        self.event("partition", a, peer=b, both_ways=both_ways)

    def heal(self) -> None:
        for node in list(self._firewall):
            self.unblock_heartbeats(node)
        self.event("healed")

    # ----- observation
    def addresses(self, node: str) -> list[tuple[str, str]]:
        """[(ifname, "a.b.c.d/len")] from ``ip -j -4 addr`` in the node's network namespace."""
        cp = run(["ip", "-n", self.ns(node), "-j", "-4", "addr", "show"])
        out = []
        for link in json.loads(cp.stdout or b"[]"):
            for a in link.get("addr_info", []):
                out.append((link.get("ifname", "?"), f"{a['local']}/{a['prefixlen']}"))
        return out

    def has_ip(self, node: str, ip: str | None = None) -> bool:
        """Is ``ip`` (default: the VIP) configured on an interface of ``node``?"""
        ip = ip or self.vip
        return any(a.split("/")[0] == ip for _, a in self.addresses(node))

    def local_ips(self, node: str) -> set[str]:
        """The node's local IPv4 addresses from /proc/<anchor>/net/fib_trie: no process
        spawned, so cheap to poll (an address on a link that is down is not listed)."""
        if not self.alive(node):
            return set()
        try:
            text = Path(f"/proc/{self.nodes[node].init_pid}/net/fib_trie").read_text()
        except OSError:
            return set()
        return set(re.findall(r"\|-- (\S+)\n\s+/32 host LOCAL", text))

    def holders(self, ip: str | None = None, fast: bool = False) -> list[str]:
        """Nodes that have ``ip`` (default: the VIP) on an interface."""
        ip = ip or self.vip
        if fast:
            return [n for n in self.nodes if ip in self.local_ips(n)]
        return [n for n in self.nodes if self.has_ip(n, ip)]

    def log_path(self, node: str) -> Path:
        return self.node_dir(node) / "log" / "heartbeat.log"

    def log_bytes(self, node: str) -> bytes:
        try:
            return self.log_path(node).read_bytes()
        except OSError:
            return b""

    def log(self, node: str) -> str:
        """The node's heartbeat.log (may contain raw binary from auth failures)."""
        return self.log_bytes(node).decode("utf-8", errors="replace")

    def cl_status(self, node: str, *args: str) -> subprocess.CompletedProcess:
        return self.exec(node, CL_STATUS, *args, timeout=20)

    def wait(self, predicate: Callable[[], bool], timeout: float, what: str = "",
             interval: float = 0.2) -> float | None:
        """Poll ``predicate``; seconds waited, or None on timeout (recorded as an event)."""
        t = time.monotonic()
        while True:
            self._check_open()
            if predicate():
                return round(time.monotonic() - t, 2)
            if time.monotonic() - t > timeout:
                self.event("timeout", what=what, timeout_s=timeout)
                return None
            sleep(interval)

    def wait_holders(self, holders: Iterable[str], timeout: float, ip: str | None = None,
                     stable: float = 0.0) -> float | None:
        """Wait until exactly ``holders`` have the VIP (and keep it for ``stable`` s)."""
        want = sorted(holders)
        since: list[float] = []

        def ok() -> bool:  # cheap poll, then confirm with `ip -j addr`
            good = (sorted(self.holders(ip, fast=True)) == want
                    and sorted(self.holders(ip)) == want)
            if not good:
                since.clear()
                return False
            if not since:
                since.append(time.monotonic())
            return time.monotonic() - since[0] >= stable

        got = self.wait(ok, timeout, f"VIP {ip or self.vip} on {want}", interval=0.25)
        if got is not None:
            self.event("vip_holders", holders=want, ip=ip or self.vip, waited_s=got)
        return got

    def wait_ip(self, node: str, ip: str | None = None, timeout: float = 30,
                present: bool = True) -> float | None:
        ip = ip or self.vip
        got = self.wait(lambda: self.has_ip(node, ip) == present, timeout,
                        f"{ip} {'on' if present else 'gone from'} {node}", interval=0.3)
        if got is not None:
            self.event("vip_on" if present else "vip_gone", node, ip=ip, waited_s=got)
        return got

    def wait_log(self, node: str, needle: str, timeout: float, count: int = 1) -> float | None:
        b = needle.encode()
        got = self.wait(lambda: self.log_bytes(node).count(b) >= count, timeout,
                        f"{node} log: {needle}")
        if got is not None:
            self.event("log_seen", node, text=needle, waited_s=got)
        return got

    # ----- packet capture (in the switch namespace, on the bridge)
    def start_pcap(self, iface: str = "br0") -> None:
        self._check_open()
        self._pcap_file = self.workdir / "heartbeat.pcap"
        self._pcap = subprocess.Popen(
            ["ip", "netns", "exec", self.switch_ns, "tcpdump", "-i", iface, "-nn", "-s", "0",
             "-U", "-Z", "root", "-w", str(self._pcap_file), "udp", "port", str(HA_UDP_PORT)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)
        # tcpdump prints "listening on ..." once it is capturing
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not self._pcap_file.exists():
            sleep(0.05)
        sleep(0.3)
        self.event("pcap_started", iface=iface)

    def stop_pcap(self) -> Path | None:
        p, self._pcap = self._pcap, None
        if p is None:
            return self._pcap_file
        _kill(p.pid, signal.SIGINT)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        if p.stderr:
            p.stderr.close()
        self.event("pcap_stopped")
        return self._pcap_file

    # ----- capture
    def capture(self, dest: Path | str, scenario: str, description: str = "",
                expected: dict | None = None, pcap: bool = False,
                extra: dict | None = None) -> Path:
        """Snapshot every node into ``dest/<node>/`` (docs/architecture.md, "Node folder
        layout"), ``dest/heartbeat.pcap`` (if ``pcap``) and ``dest/scenario.json``."""
        dest = Path(dest)
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        observed: dict = {"vip_holders": {}, "cl_status": {}, "start_rc": {}}
        pkgs = run(["dpkg-query", "-W", *PACKAGES]).stdout
        for n in self.nodes:
            nd = dest / n
            nd.mkdir()
            src = self.node_dir(n)
            for f in ("ha.cf", "haresources", "authkeys"):
                p = src / "ha.d" / f
                if p.exists():
                    (nd / f).write_bytes(p.read_bytes())
            ak = src / "ha.d" / "authkeys"
            if ak.exists():
                st = run(["stat", "-c", "%a %U %G", str(ak)], check=True).stdout
                (nd / "authkeys.stat").write_bytes(st)
            (nd / "heartbeat.log").write_bytes(self.log_bytes(n))
            debug = src / "log" / "ha-debug"
            if debug.exists():
                (nd / "ha-debug").write_bytes(debug.read_bytes())
            # inside the node (private /run: veth peers show as link-netnsid, as in a
            # container) when it is up; from its network namespace alone when it is down
            inside = self.exec if self.alive(n) else self.netexec
            (nd / "ip-a.txt").write_bytes(inside(n, "ip", "a").stdout)
            (nd / "ip-j-a.json").write_bytes(inside(n, "ip", "-j", "a").stdout)
            uname = (self.exec(n, "uname", "-n").stdout if self.alive(n)
                     else f"{self.nodes[n].hostname}\n".encode())
            (nd / "uname-n.txt").write_bytes(uname)
            (nd / "packages.txt").write_bytes(pkgs)
            (nd / "nft-ruleset.txt").write_bytes(self.netexec(n, "nft", "list", "ruleset").stdout)
            (nd / "iptables-save.txt").write_bytes(self.netexec(n, "iptables-save").stdout)
            (nd / "resource-scripts.txt").write_bytes(self._script_listing(n))
            observed["vip_holders"][n] = self.has_ip(n, self.vip)
            hbs = self.cl_status(n, "hbstatus") if self.alive(n) else None
            observed["cl_status"][n] = (hbs.stdout.decode(errors="replace").strip()
                                        if hbs is not None else "node down")
            observed["start_rc"][n] = self.nodes[n].start_rc
        if pcap and self._pcap_file is not None:
            self.stop_pcap()
            if self._pcap_file.exists():
                shutil.copyfile(self._pcap_file, dest / "heartbeat.pcap")
        self.event("captured", dir=dest.name)
        doc = {
            "scenario": scenario,
            "description": description,
            "captured_at": now_iso(),
            "generator": "tests/lab/hblab.py (Lab.capture)",
            "lab": {
                "prefix": self.prefix,
                "subnet": str(self.network),
                "gateway": f"{self.subnet}.1" if self.gateway else None,
                "vip": self.vip,
                "nodes": {n: {"ip": x.ip, "hostname": x.hostname,
                              "namespace": self.ns(n)} for n, x in self.nodes.items()},
            },
            "packages": dict(line.split("\t", 1) for line in
                             pkgs.decode().splitlines() if "\t" in line),
            "events": self.events,
            "expected": expected or {},
            "observed": observed,
        }
        if extra:
            doc.update(extra)
        (dest / "scenario.json").write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
        return dest
