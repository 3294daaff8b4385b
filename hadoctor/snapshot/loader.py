"""Build snapshots from a target: the live host, or a folder with one sub-folder per node.

Where each datum comes from is said once, by its spec in :mod:`hadoctor.datums`; this module
follows the specs (a parser on the first present file, the live host's file, command alternatives or
reader) and has one function for each datum the registry marks special. A datum that cannot be read is
recorded as missing with the reason and its kind (absent, unreadable, failed); it never aborts the
whole load. ``only`` names the data a command needs: the others are not read (a capture is not decoded
for a command that never looks at it).
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Collection, Dict, List, Optional

from hadoctor.errors import InputError
from hadoctor.inputs import read_bytes, read_config, under_root
from hadoctor.remote import local_node_name
from hadoctor.snapshot.logsource import LogSource
from hadoctor.snapshot.model import ClusterSnapshot, NodeSnapshot
from hadoctor.datums import (
    ABSENT,
    ABSENT_STATUS,
    AUTHKEYS_PATH,
    ASTERISK_DIR,
    DATUMS,
    FAILED,
    MYSQL_DEFAULTS_VAR,
    NODE_MARKERS,
    UNREADABLE,
    parsed_data,
)

COMMAND_TIMEOUT = 10.0
SUPPRESSIBLE = ("ha_cf", "haresources")  # files whose "# hadoctor: ignore=..." comments count
TARGET_HINT = ("give a folder with one sub-folder per node (ha.cf, haresources, authkeys, heartbeat.log, "
               "ip-a.txt ...; see docs/architecture.md), or no TARGET to examine this host")


#: data every load reads whatever was asked: a node's name comes from them (and a log's name from ha.cf)
ALWAYS = ("ha_cf", "uname", "log")


def load_target(target: Optional[str], *, root: str = "/", only: Optional[Collection[str]] = None,
                mysql_defaults: str = "") -> ClusterSnapshot:
    """Load what the user named. ``None`` means the live host. ``only``: the data to read (None: all).
    ``mysql_defaults``: live host only, the option file the mysql client reads its credentials from."""
    want = None if only is None else set(only) | set(ALWAYS)
    if target is None:
        return load_live(root, want, mysql_defaults)
    path = Path(target)
    if not path.exists():
        raise InputError(target, "no such file or directory", TARGET_HINT)
    if not path.is_dir():
        return load_bundle(target, want)
    if not os.access(path, os.R_OK | os.X_OK):
        raise InputError(target, "permission denied", "run as a user who can read the folder")
    return _load_folder_target(path, want)


def load_bundle(target: str, only: Optional[Collection[str]] = None) -> ClusterSnapshot:
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
        node = load_node_folder(folder, only)
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


def _load_folder_target(path: Path, only: Optional[Collection[str]] = None) -> ClusterSnapshot:
    target = str(path)
    if is_node_folder(path):
        folders = [path]
    else:
        folders = [d for d in sorted(path.iterdir()) if d.is_dir() and is_node_folder(d)]
    if not folders:
        raise InputError(target, "holds no node folder", TARGET_HINT)
    cluster = ClusterSnapshot(target=str(path), context="folder")
    for folder in folders:
        cluster.nodes.append(load_node_folder(folder, only))
    if folders != [path] and (only is None or "wire" in only):
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

def load_node_folder(folder: Path, only: Optional[Collection[str]] = None) -> NodeSnapshot:
    node = NodeSnapshot(name=folder.name, origin=f"folder {folder}")
    for spec in parsed_data(only):
        if spec.parts:
            _load_with_parts(node, spec.name, folder)
        elif not spec.client_failure:
            _load_parsed(node, spec.name, _first_existing(folder, spec.files))
    if only is None or "authkeys" in only:
        meta = folder / DATUMS["authkeys"].files[1]
        if not (folder / "authkeys").exists() and meta.is_file():
            _load_authkeys_meta(node, meta)
        else:
            _load_authkeys(node, folder / "authkeys", stat_file=folder / "authkeys.stat")
    if only is None or "service_configs" in only:
        _load_service_configs(node, folder / DATUMS["service_configs"].files[0])
    _load_log(node, _folder_log_candidates(folder, node))
    node.name = _folder_node_name(folder, node)
    for spec in parsed_data(only):
        if spec.client_failure:  # after the node's name: a reason names the node
            _load_parsed(node, spec.name, _first_existing(folder, spec.files))
    _bind_suppressions(node)
    if only is None or "wire" in only:
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
        node.mark_missing(name, err.reason, str(path), UNREADABLE)
        return None


def _load_with_parts(node: NodeSnapshot, name: str, folder: Path) -> None:
    """The first file, then each file of the spec's parts folder (name order), each after a ``### PATH``
    line: one text in the form the live host and a bundle collect (my.cnf then the files it includes)."""
    spec = DATUMS[name]
    first = _first_existing(folder, spec.files)
    sub = folder / spec.parts
    extra = sorted(p for p in sub.iterdir() if p.is_file()) if sub.is_dir() else []
    if not extra:
        _load_parsed(node, name, first)
        return
    chunks = []
    for path in ([first] if first is not None else []) + extra:
        data = _read(node, name, path)
        if data is None:
            return
        chunks.append(f"### {path.resolve()}\n".encode() + data + (b"" if data.endswith(b"\n") else b"\n"))
    node.put(name, spec.parse_function()(b"".join(chunks), str(first or sub)), str(first or sub))


def _load_parsed(node: NodeSnapshot, name: str, path: Optional[Path]) -> None:
    data = _read(node, name, path)
    if data is None:
        return
    spec = DATUMS[name]
    said = spec.failure(data.decode("utf-8", "replace"), node.name) if spec.client_failure else None
    if said is not None:  # the file holds what the client said instead of a result
        node.mark_missing(name, said[1] if said[0] else f"{path.name} holds an error, not a result: {said[1]}", str(path),
                          ABSENT if said[0] else FAILED)
        return
    parse: Callable = spec.parse_function()
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
        node.mark_missing("authkeys", f"unreadable authkeys metadata: {err}", str(path), UNREADABLE)
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
        node.mark_missing("wire", f"unreadable capture: {err}", str(listen_json), UNREADABLE)
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
    names = [os.path.basename(n) for n in _configured_log_names(node)] + list(DATUMS["log"].files)
    return [folder / n for n in dict.fromkeys(names)]


def _load_log(node: NodeSnapshot, candidates: List[Path]) -> None:
    for path in candidates:
        if path.is_file():
            if not os.access(path, os.R_OK):
                node.mark_missing("log", "permission denied", str(path), UNREADABLE)
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

def load_live(root: str = "/", only: Optional[Collection[str]] = None, mysql_defaults: str = "") -> ClusterSnapshot:
    """The local node, read in place. ``root`` prefixes every path (for tests and chroots)."""
    name = local_node_name(root)
    node = NodeSnapshot(name=name, origin="live host" + ("" if root == "/" else f" (root {root})"))
    for spec in parsed_data(only):
        if spec.live_paths:
            path = _first_live(root, spec.live_paths)
            if path is None:
                node.mark_missing(spec.name, "no " + " or ".join(under_root(root, p) for p in spec.live_paths))
            else:
                _load_parsed(node, spec.name, path)
        elif spec.live_reader:
            _load_reader(node, spec.name)
        elif spec.commands:
            _load_commands(node, spec.name, root, mysql_defaults)
    if only is None or "authkeys" in only:
        _load_authkeys(node, Path(under_root(root, AUTHKEYS_PATH)), live=True)
    if only is None or "service_configs" in only:
        _load_service_configs(node, Path(under_root(root, ASTERISK_DIR)))
    _load_log(node, [Path(under_root(root, p)) for p in _configured_log_names(node) + list(DATUMS["log"].live_paths)])
    _bind_suppressions(node)
    return ClusterSnapshot(target="live host", context="live", nodes=[node])


def _first_live(root: str, paths) -> Optional[Path]:
    for p in paths:
        candidate = Path(under_root(root, p))
        if candidate.exists():
            return candidate
    return None


def _load_reader(node: NodeSnapshot, name: str) -> None:
    spec = DATUMS[name]
    source = spec.live_reader.rpartition(":")[2].replace("read_", "", 1)  # read_netlink -> "netlink"
    try:
        node.put(name, spec.live_function()(), source)
    except Exception as exc:  # noqa: BLE001 - netlink can fail in many ways; record why and go on
        node.mark_missing(name, f"{source} failed: {exc}", source, FAILED)


def _load_commands(node: NodeSnapshot, name: str, root: str, mysql_defaults: str = "") -> None:
    """The first of the datum's commands that is available here and gives output (the bundle runs the same
    ``sh`` on every node)."""
    spec = DATUMS[name]
    failures, absent = [], []
    for command in spec.commands:
        if command.tool and not shutil.which(command.tool):
            continue
        argv = ["sh", "-c", command.sh, "sh"]
        env = dict(os.environ, R=root.rstrip("/"), **{MYSQL_DEFAULTS_VAR: mysql_defaults})
        try:
            proc = subprocess.run(argv, capture_output=True, timeout=COMMAND_TIMEOUT, check=False, env=env)
        except (OSError, subprocess.TimeoutExpired) as exc:
            failures.append(f"{command.item} failed: {exc}")
            continue
        if not proc.stdout and proc.returncode != 0:
            text = proc.stderr.decode("utf-8", "replace")
            said = spec.failure(text, node.name)
            err = text.strip().splitlines()
            if said is not None and said[0]:
                absent.append(said[1])
            elif said is None and proc.returncode == ABSENT_STATUS:
                absent.append(f"{command.item}: {err[0] if err else 'nothing to collect here'}")
            else:
                failures.append(f"{command.item} exited {proc.returncode}: {said[1] if said else err[0] if err else ''}")
            continue
        node.put(name, spec.parse_function()(proc.stdout, command.item), command.item)
        return
    if failures:
        node.mark_missing(name, "; ".join(failures), spec.commands[0].item, FAILED)
    elif absent:
        node.mark_missing(name, "; ".join(absent), spec.commands[0].item, ABSENT)
    else:
        node.mark_missing(name, "no command to collect it on this host (" + ", ".join(
            c.tool or c.item for c in DATUMS[name].commands) + ")")
