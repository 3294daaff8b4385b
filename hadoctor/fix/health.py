"""Whether the cluster is healthy enough to rotate its key: reasons to refuse, and warnings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Dict, List, Optional, Sequence, Tuple

from hadoctor.datums import AUTHKEYS_PATH, HACF_PATH
from hadoctor.fix import keyfile, nodescript
from hadoctor.fix.inspect import NodeState, hacf_pending
from hadoctor.fix.keyfile import KeyFileError


def health_problems(infos: Dict[str, NodeState], planned: Sequence[str]) -> Tuple[List[str], List[str]]:
    """(reasons to refuse, warnings) about the cluster as the nodes see it now."""
    from hadoctor.engine import ask

    refuse: List[str] = []
    warn: List[str] = []
    members = set(planned)
    keys = {n: {"authkeys": i.parsed} for n, i in infos.items() if i.parsed is not None}
    readable = {f.node for f in ask.verdict(keys, "SEC001")}  # heartbeat refuses such a file
    # a stopped heartbeat is the one reason about that node: what the others say of it follows from it
    stopped = {n for n, i in infos.items() if not i.running}
    for name, info in infos.items():
        uname = (info.out.get("uname") or "").lower()
        if uname and uname != name:
            refuse.append(f"{name}: the host reached as {name} calls itself {uname!r} (uname -n): wrong host?")
        if not info.out.get("heartbeat"):
            refuse.append(f"{name}: no heartbeat binary (looked in {', '.join(nodescript.HEARTBEAT_PATHS)})")
        if info.parsed is None:
            refuse.append(f"{name}: cannot read {AUTHKEYS_PATH}")
        else:
            try:
                keyfile.usable_old_key(info.parsed)
            except KeyFileError as err:
                refuse.append(f"{name}: {err}")
            if name in readable:
                refuse.append(_bad_mode(name, info.mode))
            elif info.mode is not None and info.mode & 0o077:
                warn.append(f"{name}: authkeys is mode {info.mode:04o}; the new file will be 0600")
        if info.hacf is None:
            refuse.append(f"{name}: cannot read {HACF_PATH}")
        else:
            declared = {n.lower() for n in info.hacf.node_names}
            missing = declared - members
            if missing:
                refuse.append(f"{name}: ha.cf lists {', '.join(sorted(missing))}, not in this rotation: a node left "
                              "on the old key drops the others' heartbeats (give every node with --node)")
        if not info.running:
            refuse.append(f"{name}: heartbeat is not running (cl_status hbstatus / pid file)")
        else:
            _hacf_problems(name, info, refuse, warn)
        if info.out.get("cl_status") is None:
            warn.append(f"{name}: no cl_status; node states not checked")
        elif info.running:
            for peer in members - stopped:
                state = info.peers.get(peer)
                if state is None:
                    refuse.append(f"{name}: cl_status does not list {peer}")
                elif state.lower() not in ("active", "up"):
                    refuse.append(f"{name} sees {peer} as {state!r} (cl_status nodestatus): the cluster is not "
                                  "healthy (a dead node or a partition)")
        if info.out.all("leftover"):
            warn.append(f"{name}: leftovers of an interrupted run: {', '.join(info.out.all('leftover'))} "
                        "(removed by this run)")
    if ask.verdict(keys, "XND004"):
        refuse.append("the nodes' active keys differ (their heartbeats may already be dropped; see LOG021): "
                      "each node's own old key is kept listed, but check the cluster first")
    return refuse, warn


def _bad_mode(name: str, mode: Optional[int]) -> str:
    """heartbeat refuses an authkeys readable by group or others (docs/heartbeat/authkeys.md#permissions):
    its next reload or restart on that node would fail, and a rollback would put that file back."""
    shown = f"{mode:04o}" if mode is not None else "readable by group or others"
    return (f"{name}: {AUTHKEYS_PATH} is mode {shown}, readable by group or others: heartbeat refuses such "
            f"a file (Bad permissions on keyfile), so its next reload or start on {name} fails. Fix the mode "
            f"first, on {name}: chmod 600 {AUTHKEYS_PATH}")


def _hacf_problems(name: str, info: NodeState, refuse: List[str], warn: List[str]) -> None:
    """An ha.cf change heartbeat has not read yet: our `heartbeat -r` would restart it
    (docs/heartbeat/authkeys.md#reloading)."""
    from hadoctor.fix.hacfcheck import running_differences

    by_mtime, by_ctime = hacf_pending(info)
    differs = running_differences(info.hacf, info.running_params) if info.hacf is not None else []
    if differs:
        shown = ", ".join(f"{k} {v!r} in the file but {r!r} running" for k, v, r in differs)
        refuse.append(
            f"{name}: {HACF_PATH} differs from what the running heartbeat read ({shown}; cl_status "
            f"hbparameter), whatever its mtime says (copied with cp -p?): a reload for the new key would "
            f"restart heartbeat on {name} with that change, in the middle of the key switch. Reload heartbeat "
            f"first (heartbeat -r) so the change is applied knowingly, or --force")
        return
    if info.hacf_mtime is None:
        return
    when = (info.hacf_mtime_local.strftime("%Y-%m-%d %H:%M:%S") if info.hacf_mtime_local
            else datetime.fromtimestamp(info.hacf_mtime, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"))
    started = "start unknown"
    if info.hb_started is not None:
        started = "started " + _node_local(info, info.hb_started)
    seen = (f"; its last reload in the log: {info.read_mark[1]!r} at {info.read_mark[0]:%Y-%m-%d %H:%M:%S}"
            if info.read_mark else "; no later restart or reload in its log" if info.log_path else "")
    what = f"heartbeat (pid {info.hb_pid if info.hb_pid is not None else '?'}, {started}{seen})"
    if by_mtime:
        refuse.append(
            f"{name}: {HACF_PATH} was modified at {when} (mtime, node clock), after the running {what} "
            f"last read it: a reload for the new key would not just reread authkeys but restart heartbeat on "
            f"{name} with the pending ha.cf change, in the middle of the key switch. Reload heartbeat first "
            f"(heartbeat -r) so the pending ha.cf change is applied knowingly, or --force")
    elif by_mtime is None:
        warn.append(f"{name}: cannot tell whether {HACF_PATH} (mtime {when}) changed after heartbeat last "
                    "read it (no start time of its master process, no reload in its log); if it was edited "
                    "without a reload, the rotation's `heartbeat -r` restarts heartbeat there")
    elif by_ctime:
        ctime = info.hacf_ctime_local.strftime("%Y-%m-%d %H:%M:%S") if info.hacf_ctime_local else str(info.hacf_ctime)
        warn.append(f"{name}: {HACF_PATH}'s inode changed at {ctime} (ctime) after {what} read it, with an "
                    f"older mtime ({when}): a chmod, or a copy that kept an old mtime (cp -p, rsync -t); in the "
                    "second case the rotation's `heartbeat -r` restarts heartbeat there (reload it first)")


def _node_local(info: NodeState, epoch: float) -> str:
    """An epoch time as the node's local time (its UTC offset from ha.cf's mtime in both forms)."""
    if info.hacf_mtime is not None and info.hacf_mtime_local is not None:
        offset = info.hacf_mtime_local - datetime.fromtimestamp(info.hacf_mtime, timezone.utc).replace(tzinfo=None)
        offset = timedelta(minutes=round(offset.total_seconds() / 60.0))
        return (datetime.fromtimestamp(int(epoch), timezone.utc).replace(tzinfo=None) + offset).strftime(
            "%Y-%m-%d %H:%M:%S")
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
