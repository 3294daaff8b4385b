"""Log rules about resources: IPaddr/findif failures, failed starts, resources active at boot."""

from __future__ import annotations

from hadoctor.rulekit import START_PATTERN, Doc, fail, in_current_run, log_rule

FINDIF_FAILURE = (
    r"findif failed \[rc=\d+\]"            # IPaddr (C findif), resource-agents 3.9/4.x
    r"|\[findif\] failed"                   # IPaddr2 findif.sh (3.9.5+, 4.x)
    r"|\[\S*findif -C\] failed"             # IPaddr2 with the C binary (3.9.2)
    r"|Cannot use default route w/o netmask"
    r"|Unable to find nic(?: or netmask|, or netmask mismatch)?"
    r"|Invalid parameter value: nic \[(?P<nic>[^\]]*)\] Calculated nic: \[(?P<calc>[^\]]*)\]"
    r"|No free interface found for (?P<vip>\S+)"
)


@log_rule(
    "LOG001", "IPaddr/IPaddr2 could not find an interface for the VIP (findif failure)",
    severity="error",
    patterns={"findif": FINDIF_FAILURE},
    levels=("error", "crit", "warn"),
    context={"start": START_PATTERN,
             "giving_up": r"Giving up resources due to failure of (?P<rsc>\S+)"},
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
    "LOG002", "a resource failed to start and heartbeat gave the group up",
    severity="error",
    patterns={"giving_up": r"Giving up resources due to failure of (?P<rsc>\S+)",
              "rc": r"Return code (?P<rc>\d+) from (?P<script>\S+)"},
    levels=("error", "crit"),
    context={"start": START_PATTERN, "findif": FINDIF_FAILURE,
             "missing": r"Cannot locate resource script (?P<script>\S+)"},
    doc=Doc(
        meaning="ResourceManager ran a resource script's start, it failed, and heartbeat released the whole "
                "resource group (and schedules hb_standby 30 s later).",
        why="The service is not running on either node, or it is ping-ponging between them.",
        fix="Run the failing script by hand on the node (`/etc/ha.d/resource.d/<script> <args> start`, or "
            "`/etc/init.d/<service> start`) and fix what it reports; the lines before 'Giving up' in the log "
            "usually name the cause.",
    ),
)
def resource_start_failed(node, hits):
    rscs = hits["giving_up"].values.get("rsc", {})
    explained = (hits["findif"].count and all(_looks_like_ip(r) for r in rscs)) or (
        hits["missing"].count and not hits["rc"].count)
    if explained:
        return  # LOG001 / LOG004 name the cause
    scripts = hits["rc"].values.get("script", {})
    what = ", ".join(rscs) or ", ".join(scripts) or "a resource"
    yield fail(f"start of {what} failed ({hits['giving_up'].count + hits['rc'].count} log lines)",
               hits["rc"].evidence(node, 2) + hits["giving_up"].evidence(node, 2),
               when="now" if in_current_run(hits, "giving_up") or in_current_run(hits, "rc") else "past")


@log_rule(
    "LOG003", "a resource was already active when heartbeat started (started outside heartbeat)",
    severity="error",
    patterns={"active": r"Resource (?P<rsc>\S+) is active, and should not be!"},
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
    patterns={"missing": r"Cannot locate resource script (?P<script>\S+)"},
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


def _looks_like_ip(token: str) -> bool:
    head = token.split("::")[-1].split("/")[0]
    return head.count(".") == 3 and all(part.isdigit() for part in head.split("."))
