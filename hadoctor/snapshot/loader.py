"""Build snapshots from a target: the live host, or a folder with one sub-folder per node.

This is the only layer that opens files or runs commands. A datum that cannot be
read is recorded as missing with the reason; it never aborts the whole load.
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Dict, List, Optional

from hadoctor.errors import InputError
from hadoctor.inputs import read_bytes, read_config, under_root
from hadoctor.remote import local_node_name
from hadoctor.snapshot.logsource import LogSource
from hadoctor.snapshot.model import ClusterSnapshot, NodeSnapshot
from hadoctor.snapshot.registry import DATUMS, NODE_MARKERS

COMMAND_TIMEOUT = 10.0
SUPPRESSIBLE = ("ha_cf", "haresources")  # files whose "# hadoctor: ignore=..." comments count
TARGET_HINT = ("give a folder with one sub-folder per node (ha.cf, haresources, authkeys, heartbeat.log, "
               "ip-a.txt ...; see docs/architecture.md), or no TARGET to examine this host")


def load_target(target: Optional[str], *, root: str = "/") -> ClusterSnapshot:
    """Load what the user named. ``None`` means the live host."""
    if target is None:
        return load_live(root)
    path = Path(target)
    if not path.exists():
        raise InputError(target, "no such file or directory", TARGET_HINT)
    if not path.is_dir():
        return load_bundle(target)
    if not os.access(path, os.R_OK | os.X_OK):
        raise InputError(target, "permission denied", "run as a user who can read the folder")
    return _load_folder_target(path)


def load_bundle(target: str) -> ClusterSnapshot:
    """A support bundle (``hadoctor bundle create``): unpacked safely (hadoctor.bundle.archive), then read
    like a folder of node folders; the manifest's failed, timed-out or unreachable items become the
    reasons of missing data and cluster notes."""
    from hadoctor.bundle import archive
    from hadoctor.bundle.manifest_view import apply_manifest

    if not archive.looks_like_archive(target):
        raise InputError(target, "is a file but not a bundle (.tar.gz) or a folder", TARGET_HINT)
    opened = archive.extract(target)
    folders = [d for d in sorted(opened.root.iterdir()) if d.is_dir() and is_node_folder(d)]
    cluster = ClusterSnapshot(target=target, context="bundle")
    for folder in folders:
        node = load_node_folder(folder)
        node.origin = f"bundle {target}:{folder.name}"
        cluster.nodes.append(node)
    for node in cluster.nodes:
        _relabel(node, str(opened.root) + os.sep, f"{target}:")
    apply_manifest(cluster, opened.manifest, dict(zip([n.name for n in cluster.nodes], [f.name for f in folders])))
    if not cluster.nodes:
        raise InputError(target, "the bundle holds no node's data: " + "; ".join(cluster.notes),
                         "collect again once the nodes are reachable")
    _check_unique_names(cluster)
    return cluster


def _relabel(node: NodeSnapshot, prefix: str, label: str) -> None:
    """Show bundle paths as ``BUNDLE:node01/ha.cf`` in evidence, not as the private unpack folder.
    LogSource keeps the real paths (it opens them when a rule streams the log)."""
    import dataclasses

    def fix(value, depth: int = 0):
        if isinstance(value, str):
            return label + value[len(prefix):] if value.startswith(prefix) else value
        if depth > 3 or isinstance(value, LogSource):
            return value
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                if f.name in ("path", "file", "problems", "files", "entries"):
                    try:
                        setattr(value, f.name, fix(getattr(value, f.name), depth + 1))
                    except (AttributeError, dataclasses.FrozenInstanceError):
                        pass
            return value
        if isinstance(value, list):
            return [fix(v, depth + 1) for v in value]
        if isinstance(value, dict):
            return {k: fix(v, depth + 1) for k, v in value.items()}
        return value

    for datum in node.data.values():
        datum.source = fix(datum.source)
        datum.missing = datum.missing.replace(prefix, label)
        if isinstance(datum.value, LogSource):
            datum.value.display = {p: fix(p) for p in datum.value.paths}
        elif datum.value is not None:
            fix(datum.value)
    node.origin = fix(node.origin)


def _load_folder_target(path: Path) -> ClusterSnapshot:
    target = str(path)
    if is_node_folder(path):
        folders = [path]
    else:
        folders = [d for d in sorted(path.iterdir()) if d.is_dir() and is_node_folder(d)]
    if not folders:
        raise InputError(target, "holds no node folder", TARGET_HINT)
    cluster = ClusterSnapshot(target=str(path), context="folder")
    for folder in folders:
        cluster.nodes.append(load_node_folder(folder))
    if folders != [path]:
        for node, folder in zip(cluster.nodes, folders):
            _load_wire(node, folder, path / "heartbeat.pcap")
    _check_unique_names(cluster)
    return cluster


def is_node_folder(path: Path) -> bool:
    return any((path / marker).exists() for marker in NODE_MARKERS)


def _check_unique_names(cluster: ClusterSnapshot) -> None:
    counts = collections.Counter(n.name for n in cluster.nodes)
    for name, count in counts.items():
        if count > 1:
            cluster.notes.append(f"{count} folders describe a node named {name!r}; they are analysed separately")


# --- one node from a folder ---------------------------------------------------------------

def load_node_folder(folder: Path) -> NodeSnapshot:
    node = NodeSnapshot(name=folder.name, origin=f"folder {folder}")
    for name in ("ha_cf", "haresources", "addresses", "packages", "hosts", "firewall", "resource_scripts",
                 "boot_services"):
        _load_parsed(node, name, _first_existing(folder, DATUMS[name].folder_files))
    if not (folder / "authkeys").exists() and (folder / "authkeys.json").is_file():
        _load_authkeys_meta(node, folder / "authkeys.json")
    else:
        _load_authkeys(node, folder / "authkeys", stat_file=folder / "authkeys.stat")
    _load_service_configs(node, folder / "services")
    _load_uname_folder(node, folder)
    _load_log(node, _folder_log_candidates(folder, node))
    node.name = _folder_node_name(folder, node)
    _bind_suppressions(node)
    _load_wire(node, folder, None)
    if node.name != folder.name.lower():
        node.notes.append(f"folder {folder.name!r} holds node {node.name!r} (name from the node's own data)")
    return node


def _bind_suppressions(node: NodeSnapshot) -> None:
    for supp in node.find("suppressions") or []:
        supp.node = supp.node or node.name


def _first_existing(folder: Path, names) -> Optional[Path]:
    for name in names:
        if (folder / name).exists():
            return folder / name
    return None


def _read(node: NodeSnapshot, name: str, path: Optional[Path]) -> Optional[bytes]:
    if path is None:
        node.mark_missing(name, "not present in this snapshot")
        return None
    try:
        return read_config(str(path))
    except InputError as err:
        node.mark_missing(name, err.reason, str(path))
        return None


def _load_parsed(node: NodeSnapshot, name: str, path: Optional[Path]) -> None:
    data = _read(node, name, path)
    if data is None:
        return
    parse: Callable = DATUMS[name].parse_function()
    node.put(name, parse(data, str(path)), str(path))
    if name in SUPPRESSIBLE:
        from hadoctor.parsers.suppressions import scan

        found = scan(data, str(path))
        if found:
            existing = node.find("suppressions") or []
            node.put("suppressions", existing + found, "hadoctor: comments")


def _load_authkeys(node: NodeSnapshot, path: Path, stat_file: Optional[Path] = None, live: bool = False) -> None:
    from hadoctor.parsers.authkeys import parse_authkeys, parse_stat_line

    if not path.exists():
        node.mark_missing("authkeys", f"no {path}" if live else "not present in this snapshot", str(path))
        return
    mode = owner = group = None
    source = str(path)
    if stat_file is not None and stat_file.exists():
        try:
            mode, owner, group = parse_stat_line(read_bytes(str(stat_file)).decode("utf-8", "replace"))
            source += f" (mode from {stat_file.name})"
        except (InputError, ValueError):
            node.notes.append(f"{stat_file}: unreadable; authkeys mode unknown")
    elif live:
        st = path.stat()
        mode, owner, group = st.st_mode & 0o7777, _user(st.st_uid), _group(st.st_gid)
    data = _read(node, "authkeys", path)
    if data is None:
        if live and mode is not None:
            node.notes.append(f"{path}: cannot read the key file ({node.data['authkeys'].missing}); mode {mode:04o}")
        return
    node.put("authkeys", parse_authkeys(data, str(path), mode=mode, owner=owner, group=group), source)


def _load_authkeys_meta(node: NodeSnapshot, path: Path) -> None:
    """A bundle's authkeys metadata (hadoctor.bundle: the key itself is never in a bundle)."""
    from hadoctor.bundle.manifest_view import authkeys_from_meta

    try:
        model = authkeys_from_meta(read_bytes(str(path)), str(path))
    except InputError as err:
        node.mark_missing("authkeys", f"unreadable authkeys metadata: {err}", str(path))
        return
    node.put("authkeys", model, f"{path} (bundle metadata: mode, methods, keyed fingerprints; no key)")


def _user(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (KeyError, ImportError):
        return str(uid)


def _group(gid: int) -> str:
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (KeyError, ImportError):
        return str(gid)


def _load_wire(node: NodeSnapshot, folder: Path, shared_pcap: Optional[Path]) -> None:
    """Heartbeat traffic seen on the wire (see hadoctor.snapshot.wire_datum), when a capture is there."""
    from hadoctor.snapshot import wire_datum

    if node.has("wire"):
        return
    listen_json, own_pcap = folder / "probe-listen.json", folder / "heartbeat.pcap"
    try:
        if listen_json.is_file():
            node.put("wire", wire_datum.from_listen_json(read_bytes(str(listen_json)), str(listen_json)),
                     str(listen_json))
            return
        pcap = own_pcap if own_pcap.is_file() else shared_pcap
        if pcap is not None and pcap.is_file():
            node.put("wire", wire_datum.from_pcap(str(pcap), node.find("authkeys"), node.find("ha_cf")), str(pcap))
            return
    except (InputError, ValueError, KeyError) as err:
        node.mark_missing("wire", f"unreadable capture: {err}", str(listen_json))
        return
    node.mark_missing("wire", "no capture (heartbeat.pcap or probe-listen.json) in this snapshot")


def _load_service_configs(node: NodeSnapshot, folder: Path) -> None:
    """Asterisk/MOR files of services behind the VIP; absent unless the node runs them."""
    from hadoctor.parsers.asterisk import SERVICE_FILES, ServiceConfigs, parse_asterisk_conf

    configs = ServiceConfigs()
    for name in SERVICE_FILES:
        path = folder / name
        if path.is_file():
            try:
                configs.files[name] = parse_asterisk_conf(read_config(str(path)), str(path))
            except InputError as err:
                node.notes.append(f"{path}: {err.reason}")
    if configs.files:
        node.put("service_configs", configs, str(folder))
    else:
        node.mark_missing("service_configs", f"no Asterisk/MOR files in {folder}")


def _load_uname_folder(node: NodeSnapshot, folder: Path) -> None:
    data = _read(node, "uname", _first_existing(folder, DATUMS["uname"].folder_files))
    if data is not None:
        node.put("uname", data.decode("utf-8", "replace").strip(), str(folder / "uname-n.txt"))


def _configured_log_names(node: NodeSnapshot) -> List[str]:
    hacf = node.find("ha_cf")
    names = []
    if hacf is not None:
        for attr in ("logfile", "debugfile"):
            value = getattr(hacf, attr, None)
            value = getattr(value, "value", value)
            if value and value != "/dev/null":
                names.append(str(value))
    return names


def _folder_log_candidates(folder: Path, node: NodeSnapshot) -> List[Path]:
    names = [os.path.basename(n) for n in _configured_log_names(node)] + list(DATUMS["log"].folder_files)
    return [folder / n for n in dict.fromkeys(names)]


def _load_log(node: NodeSnapshot, candidates: List[Path]) -> None:
    for path in candidates:
        if path.is_file():
            if not os.access(path, os.R_OK):
                node.mark_missing("log", "permission denied", str(path))
                return
            node.put("log", LogSource.from_path(str(path)), str(path))
            return
    tried = ", ".join(p.name for p in candidates)
    node.mark_missing("log", f"no log file found (looked for {tried})")


def _folder_node_name(folder: Path, node: NodeSnapshot) -> str:
    """The node's heartbeat name: nodeinfo, else `uname -n`, else the log's host, else the folder."""
    nodeinfo = folder / "nodeinfo"
    if nodeinfo.is_file():
        try:
            first = read_bytes(str(nodeinfo)).decode("utf-8", "replace").splitlines()
            if first and first[0].strip():
                return first[0].strip().lower()
        except InputError:
            pass
    uname = node.find("uname")
    if uname:
        return uname.lower()
    hacf = node.find("ha_cf")
    declared = {getattr(n, "name", n) for n in (getattr(hacf, "nodes", None) or [])}
    if folder.name.lower() in declared:
        return folder.name.lower()
    host = _log_host(node)
    if host:
        return host.lower()
    return folder.name.lower()


def _log_host(node: NodeSnapshot, sample: int = 200) -> Optional[str]:
    """The host most heartbeat lines at the start of the log name (syslog-style lines carry it)."""
    log = node.find("log")
    if log is None:
        return None
    counts: Dict[str, int] = collections.Counter()
    try:
        for i, record in enumerate(log.records()):
            if record.host and record.component == "heartbeat":
                counts[record.host] += 1
            if i >= sample:
                break
    except InputError:
        return None
    return counts.most_common(1)[0][0] if counts else None


# --- the live host --------------------------------------------------------------------------

def load_live(root: str = "/") -> ClusterSnapshot:
    """The local node, read in place. ``root`` prefixes every path (for tests and chroots)."""
    name = local_node_name(root)
    node = NodeSnapshot(name=name, origin="live host" + ("" if root == "/" else f" (root {root})"))
    for datum in ("ha_cf", "haresources", "hosts"):
        path = _first_live(root, DATUMS[datum].live_paths)
        if path is None:
            node.mark_missing(datum, "no " + " or ".join(under_root(root, p) for p in DATUMS[datum].live_paths))
        else:
            _load_parsed(node, datum, path)
    _load_authkeys(node, Path(under_root(root, "/etc/ha.d/authkeys")), live=True)
    node.put("uname", os.uname().nodename, "uname(2)")
    _load_service_configs(node, Path(under_root(root, "/etc/asterisk")))
    _load_log(node, [Path(under_root(root, p)) for p in _configured_log_names(node) + list(DATUMS["log"].live_paths)])
    _load_live_addresses(node)
    _load_command(node, "packages", _package_command())
    _load_command(node, "firewall", _firewall_command())
    _load_command(node, "boot_services", _boot_command())
    from hadoctor.parsers.scripts import list_live, parse_script_listing

    node.put("resource_scripts", parse_script_listing(list_live(root), "resource scripts"),
             "/etc/ha.d/resource.d, /etc/init.d")
    _bind_suppressions(node)
    return ClusterSnapshot(target="live host", context="live", nodes=[node])


def _first_live(root: str, paths) -> Optional[Path]:
    for p in paths:
        candidate = Path(under_root(root, p))
        if candidate.exists():
            return candidate
    return None


def _load_live_addresses(node: NodeSnapshot) -> None:
    try:
        from hadoctor.parsers.interfaces_netlink import read_netlink

        node.put("addresses", read_netlink(), "netlink")
    except Exception as exc:  # noqa: BLE001 - netlink can fail in many ways; record why and go on
        node.mark_missing("addresses", f"netlink failed: {exc}", "netlink")


def _package_command() -> Optional[List[str]]:
    names = ["heartbeat", "cluster-glue", "resource-agents", "libheartbeat2", "pacemaker"]
    if shutil.which("dpkg-query"):
        return ["dpkg-query", "-W", "-f", "${Package}\t${Version}\n"] + names
    if shutil.which("rpm"):
        return ["rpm", "-q"] + names
    return None


def _firewall_command() -> Optional[List[str]]:
    if shutil.which("nft"):
        return ["nft", "list", "ruleset"]
    if shutil.which("iptables-save"):
        return ["iptables-save"]
    return None


def _boot_command() -> Optional[List[str]]:
    if os.path.isdir("/run/systemd/system") and shutil.which("systemctl"):
        return ["systemctl", "list-unit-files", "--type=service", "--no-legend"]
    if shutil.which("chkconfig"):
        return ["chkconfig", "--list"]
    return None


def _load_command(node: NodeSnapshot, name: str, argv: Optional[List[str]]) -> None:
    if argv is None:
        node.mark_missing(name, "no command to collect it on this host")
        return
    shown = " ".join(argv)
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=COMMAND_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        node.mark_missing(name, f"{argv[0]} failed: {exc}", shown)
        return
    if not proc.stdout and proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        node.mark_missing(name, f"{argv[0]} exited {proc.returncode}: {err[0] if err else ''}", shown)
        return
    node.put(name, DATUMS[name].parse_function()(proc.stdout, shown), shown)
