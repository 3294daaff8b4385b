"""Log rules about resources: IPaddr/findif failures, failed starts, resources active at boot."""

from __future__ import annotations

from hadoctor.catalogue import pattern
from hadoctor.rulekit import START_PATTERN, Doc, fail, in_current_run, log_rule

FINDIF_FAILURE = pattern("ra.findif_rc", "ra.findif_sh_failed", "ra.findif_c_failed", "ra.findif_no_default_route",
                         "ra.findif_no_nic", "ra.findif_nic_mismatch", "ra.no_free_interface", "ra.findif_bad_nic")


@log_rule(
    "LOG001", "IPaddr/IPaddr2 could not find an interface for the VIP (findif failure)",
    severity="error",
    patterns={"findif": FINDIF_FAILURE},
    levels=("error", "crit", "warn"),
    context={"start": START_PATTERN,
             "giving_up": pattern("rm.giving_up")},
    doc=Doc(
        meaning="The IPaddr or IPaddr2 resource agent failed to choose the network interface (and netmask) "
                "for the virtual IP. resource-agents' findif looks for a route to the VIP: the VIP must fall "
                "inside the subnet of an address already configured on the node, or the haresources entry must "
                "say /cidr and the nic explicitly.",
        why="The VIP never comes up: heartbeat gives up the whole resource group ('Giving up resources due to "
            "failure of ...') and the service behind the VIP is down although both nodes look healthy.",
        fix="Give the netmask and interface in haresources (IPaddr::192.0.2.50/24/eth0), and make sure that "
            "interface carries an address in the VIP's subnet on BOTH nodes (compare `ip a`). When a nic is "
            "given it must be the one the route to the VIP uses.",
        links=("https://github.com/ClusterLabs/resource-agents/blob/main/heartbeat/findif.sh",),
    ),
)
def findif_failure(node, hits):
    h = hits["findif"]
    nics = h.values.get("nic", {})
    calc = h.values.get("calc", {})
    detail = ""
    if nics and calc:
        detail = f" (nic {', '.join(nics)} given, but the route to the VIP uses {', '.join(calc)})"
    given_up = ", ".join(hits["giving_up"].values.get("rsc", {})) or "the group"
    current = in_current_run(hits, "findif")
    yield fail(f"findif failed {h.count} time(s){detail}; heartbeat gave up {given_up}",
               h.evidence(node) + hits["giving_up"].evidence(node, 1),
               when="now" if current else "past")


@log_rule(
    "LOG002", "a resource script failed (start: heartbeat gave the group up; stop: a reboot looms)",
    severity="error",
    patterns={"giving_up": pattern("rm.giving_up"),
              "rc": pattern("rm.return_code"),
              "ocf": pattern("hto.ocf_failed")},
    levels=("error", "crit"),
    context={"start": START_PATTERN, "findif": FINDIF_FAILURE,
             "missing": pattern("rm.missing_script"),
             "drbd": pattern("drbd.failed", "drbd.giving_up"),
             "stop": pattern("rm.stop_retry", "rm.not_lsb", "rm.stop_must_succeed", "rm.reboot_avoided")},
    doc=Doc(
        meaning="ResourceManager ran a resource script (its start while acquiring a group, its stop while "
                "releasing one) and the script returned an error. A failed start makes heartbeat release the "
                "whole group (and schedule hb_standby 30 s later); a failed stop is retried and, when the "
                "resource still looks active, makes heartbeat demand a reboot.",
        why="After a failed start the service runs on neither node, or ping-pongs between them; after a "
            "failed stop the node reboots (or an LSB script that fails 'stop when already stopped' narrowly "
            "avoided it).",
        fix="Run the failing operation by hand on the node (`/etc/ha.d/resource.d/<script> <args> start|stop`, "
            "or `/etc/init.d/<service> start|stop`) and fix what it reports; the lines before the failure in "
            "the log usually name the cause. An init script's stop must succeed when already stopped (LSB).",
    ),
)
def resource_start_failed(node, hits):
    rscs = hits["giving_up"].values.get("rsc", {})
    scripts = hits["rc"].values.get("script", {})
    explained = (hits["findif"].count and all(_looks_like_ip(r) for r in rscs)) or (
        hits["missing"].count and not hits["rc"].count) or (
        hits["drbd"].count and all(s.endswith("/drbddisk") for s in scripts)
        and all(r.startswith("drbddisk") for r in rscs))
    if explained:
        return  # LOG001 / LOG004 / LOG005 name the cause
    op = _operation(hits)
    what = ", ".join(rscs) if op == "start" and rscs else ", ".join(scripts) or ", ".join(rscs) or "a resource"
    lines = hits["giving_up"].count + hits["rc"].count + hits["ocf"].count
    results = ", ".join(sorted(hits["ocf"].values.get("result", {})))
    message = f"{op} of {what} failed ({lines} log lines)" if op else f"{what} failed ({lines} log lines)"
    if results:
        message += f"; the agent said: {results}"
    yield fail(message,
               hits["rc"].evidence(node, 2) + hits["giving_up"].evidence(node, 2) + hits["stop"].evidence(node, 1),
               when="now" if any(in_current_run(hits, k) for k in ("giving_up", "rc", "ocf")) else "past")


def _operation(hits) -> str:
    """Which operation failed: ResourceManager runs a script's start only while acquiring a group (a
    failure gives the group up) and its stop only while releasing one (a failure is retried, then the LSB
    warnings or the reboot); '' when the log shows neither (the 'Running ... start|stop' lines are too
    many to follow: the status script runs every few seconds)."""
    stop, start = hits["stop"].count, hits["giving_up"].count
    if stop and start:
        return "start (and stop)" if _before(hits["giving_up"].last, hits["stop"].last) else "start"
    return "stop" if stop else "start" if start else ""


def _before(a, b) -> bool:
    """Record ``a`` was logged no later than record ``b`` (time, then place in the log)."""
    if a.time is not None and b.time is not None and a.time != b.time:
        return a.time < b.time
    return (a.file, a.line) <= (b.file, b.line)


@log_rule(
    "LOG003", "a resource was already active when heartbeat started (started outside heartbeat)",
    severity="error",
    patterns={"active": pattern("rm.active_at_start")},
    context={"non_idle": pattern("rm.non_idle")},
    doc=Doc(
        meaning="At start-up (verifyallidle) the init script found a haresources resource already running: "
                "the VIP configured statically by the OS, or a service started at boot.",
        why="A resource managed by heartbeat must be started only by heartbeat; otherwise both nodes can run "
            "it at once (data corruption, duplicate IP).",
        fix="Remove the VIP from the OS network configuration and disable the services listed in haresources "
            "at boot (systemctl disable / chkconfig off); heartbeat starts them.",
    ),
)
def resource_active_at_start(node, hits):
    rscs = ", ".join(hits["active"].values.get("rsc", {}))
    yield fail(f"already active when heartbeat started: {rscs}", hits["active"].evidence(node))


@log_rule(
    "LOG004", "a resource script named in haresources cannot be found",
    severity="error",
    patterns={"missing": pattern("rm.missing_script")},
    context={"start": START_PATTERN},
    doc=Doc(
        meaning="ResourceManager looked for the script in /etc/ha.d/resource.d and /etc/init.d and found no "
                "executable file of that name.",
        why="The resource group cannot start: the service behind the VIP stays down.",
        fix="Install the script (e.g. the package providing /etc/init.d/<name>), fix the name in haresources, "
            "or make the file executable; then check haresources is identical on both nodes.",
    ),
)
def missing_resource_script(node, hits):
    scripts = ", ".join(hits["missing"].values.get("script", {}))
    yield fail(f"cannot locate resource script(s): {scripts}", hits["missing"].evidence(node),
               when="now" if in_current_run(hits, "missing") else "past")


@log_rule(
    "LOG005", "drbddisk could not make its DRBD resource Primary (start) or Secondary (stop)",
    severity="error",
    patterns={"failed": pattern("drbd.failed"),
              "giving_up": pattern("drbd.giving_up"),
              "stop": pattern("drbd.stop_retry")},
    levels=("error", "crit", "info"),
    context={"start": START_PATTERN},
    doc=Doc(
        meaning="The drbddisk resource script (drbddisk::r0 in haresources) runs `drbdadm primary` when the "
                "group starts (6 tries, a second apart) and `drbdadm secondary` when it stops (3 tries), and "
                "DRBD refused. ResourceManager sends drbdadm's own message to debugfile only; the log shows "
                "the return code.",
        why="A failed start gives the whole group up (the file system on the DRBD device cannot be mounted, "
            "the service stays down on both nodes); a failed stop is retried and may end in a reboot.",
        fix="On this node look at `cat /proc/drbd` (DRBD 8) or `drbdadm status` (DRBD 9) and run `drbdadm "
            "primary <res>` by hand to see DRBD's reason. Start: the peer is still Primary (it did not "
            "release, or the nodes are split-brained: resolve it with `drbdadm connect --discard-my-data` "
            "on the victim), the local disk is not UpToDate (Inconsistent during a resync, Outdated by "
            "dopd/fence-peer, Diskless), or the resource is not up (`drbdadm up <res>`; module loaded). "
            "Stop: the device is still in use (a mount: list Filesystem after drbddisk in the haresources "
            "line so it stops first; a process: `fuser -vm /dev/drbd0`).",
        links=("https://github.com/LINBIT/drbd-utils/blob/master/scripts/drbddisk",),
    ),
)
def drbddisk_failed(node, hits):
    names = set(hits["giving_up"].values.get("rsc", {})) | set(hits["stop"].values.get("rsc", {}))
    resources = ", ".join(sorted(n.partition("::")[2] or "all" for n in names)) or "its resource"
    rcs = ", ".join(hits["failed"].values.get("rc", {}))
    ops = []
    if hits["giving_up"].count:
        ops.append("start (Primary) failed: heartbeat gave the group up")
    if hits["stop"].count:
        ops.append(f"stop (Secondary) failed and was retried {hits['stop'].count} time(s)")
    if not ops:
        ops.append(f"drbddisk failed {hits['failed'].count} time(s)")
    when = "now" if any(in_current_run(hits, k) for k in ("failed", "giving_up", "stop")) else "past"
    yield fail(f"drbddisk {resources}: " + "; ".join(ops) + (f" (return code {rcs})" if rcs else ""),
               hits["failed"].evidence(node, 1) + hits["giving_up"].evidence(node, 1) + hits["stop"].evidence(node, 1),
               when=when)


def _looks_like_ip(token: str) -> bool:
    head = token.split("::")[-1].split("/")[0]
    return head.count(".") == 3 and all(part.isdigit() for part in head.split("."))
