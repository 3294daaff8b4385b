"""Log rules about heartbeat paths: a path that died and stayed dead, a medium whose socket the kernel refused."""

from __future__ import annotations

from hadoctor.catalogue import pattern
from hadoctor.rulekit import START_PATTERN, Doc, fail, from_record, in_current_run, log_rule


def _link(record, match):
    """Group link records by the path: ``peer:interface``."""
    return f"{match.group('node')}:{match.group('iface')}"


@log_rule(
    "LOG036", "a heartbeat path died and did not come back",
    severity="warning",
    patterns={"link": pattern("hb.link_status")},
    group_by={"link": _link},
    context={"start": START_PATTERN, "dead": pattern("hb.node_dead")},
    wants=("ha_cf", "addresses"),
    doc=Doc(
        meaning="heartbeat logs 'Link PEER:IF dead.' when no heartbeat has come from PEER over the medium on "
                "interface IF for deadtime, and 'Link PEER:IF up.' when they come back. The last word about this "
                "path was 'dead' while the peer is still heard over another path: the cluster runs on its "
                "remaining path(s) alone.",
        why="With one path left, one more cable, switch port or NIC failure makes each node declare the other "
            "dead and take the resources: a split brain. The setup guide's warning about a single cable, switch "
            "or NIC applies now, while everything still looks healthy.",
        fix="Repair the path: look at the interface on both nodes (`ip -s link show IF`: NO-CARRIER, DOWN, errors), "
            "the cable and the switch port; then check the log shows 'Link PEER:IF up.'.",
    ),
)
def lost_path(node, hits):
    link = hits["link"]
    peers = {n.name.lower() for n in node.ha_cf.nodes} if node.ha_cf is not None else set()
    dead_peers = {n.lower() for n in hits["dead"].values.get("node", {})}
    table = node.addresses
    for key in sorted(link.groups):
        last = link.groups[key].last
        peer, _, iface = key.partition(":")
        if peer == iface or (peers and peer.lower() not in peers) or peer.lower() == node.name.lower():
            continue  # a ping node's "link", or this node's own
        if not last.message.rstrip().endswith("dead."):
            continue
        others_up = [k for k, h in link.groups.items()
                     if k != key and k.partition(":")[0] == peer and h.last.message.rstrip().endswith("up.")]
        if not others_up and peer.lower() in dead_peers:
            continue  # every path to the peer died: the peer was declared dead (LOG011)
        where = _interface_state(table, iface)
        since = f" since {last.time:%Y-%m-%d %H:%M:%S}" if last.time is not None else ""
        message = f"path {key} is dead{since}"
        if others_up:
            message += f"; the cluster runs on {', '.join(sorted(others_up))} alone"
        message += f"; {where}"
        yield fail(message, [from_record(node, last)], fix=_fix(iface, where, peer),
                   when="now" if in_current_run({"link": link.groups[key], "start": hits["start"]}, "link") else "past")


def _interface_state(table, iface: str) -> str:
    if table is None:
        return f"no interface data to check {iface} here"
    found = table.get(iface)
    if found is None:
        return f"interface {iface} does not exist on this node"
    if not found.is_up:
        return f"interface {iface} is administratively DOWN on this node"
    if found.has_carrier is False:
        return f"interface {iface} has NO-CARRIER on this node (cable, switch port or peer NIC)"
    if found.has_carrier is True:
        return f"interface {iface} is up with carrier on this node: the fault is on the peer's side or between"
    return f"interface {iface} is up on this node (carrier unknown)"


def _fix(iface: str, where: str, peer: str) -> str:
    if "NO-CARRIER" in where:
        return (f"check the cable and switch port of {iface} on this node (and the NIC of {peer} on that path); "
                f"`ip -s link show {iface}`")
    if "DOWN" in where:
        return f"bring {iface} up (`ip link set {iface} up`) and make it come up at boot"
    if "does not exist" in where:
        return f"the medium names {iface}, which this node does not have: fix ha.cf's media lines (CFG rules)"
    return f"look at {peer}'s interface on this path (its log names the link it lost), the cable and the switch"


#: the kernel's reason (errno text) -> what an admin does about it
REASONS = {
    "Address already in use": "another process holds the UDP port: `ss -ulpn | grep :PORT` (a second heartbeat, "
                              "or another cluster's daemon on this host); stop it or give this cluster another udpport",
    "Cannot assign requested address": "the address is not configured on this node: a ucast/mcast line or bind "
                                       "address that belongs to another host",
    "No such device": "the interface does not exist on this node: fix the media line (names differ between nodes)",
    "Protocol not available": "the kernel is older than 3.9 (no SO_REUSEPORT) and heartbeat 3.0.5/3.0.6 treat "
                              "that as fatal for ucast: run a newer kernel or a heartbeat build with the upstream fix",
    "Permission denied": "heartbeat was not started as root, or SELinux/AppArmor refused the socket",
    "No such file or directory": "the serial device does not exist on this node",
    "Device or resource busy": "another program (getty, a console) holds the serial port",
}


@log_rule(
    "LOG037", "a heartbeat medium could not open its socket or device",
    severity="error",
    patterns={"bind": pattern("hb.media_bind"), "reuseport": pattern("hb.media_reuseport"),
              "serial": pattern("hb.serial_open")},
    context={"start": START_PATTERN},
    doc=Doc(
        meaning="A medium (bcast, mcast, ucast, serial) asked the kernel for its socket or device and the "
                "kernel refused; heartbeat logs the kernel's reason (the errno text) after the colon.",
        why="heartbeat stops (CRIT at start: the medium is required) or runs without that path.",
        fix="Act on the kernel's reason, quoted in the finding: a port in use, an address not on this node, "
            "a missing device, or an old kernel without SO_REUSEPORT.",
    ),
)
def medium_socket(node, hits):
    reasons = {}
    for key in ("bind", "reuseport", "serial"):
        for reason, count in hits[key].values.get("reason", {}).items():
            reasons[reason.strip()] = reasons.get(reason.strip(), 0) + count
    evidence = hits["bind"].evidence(node, 1) + hits["reuseport"].evidence(node, 1) + hits["serial"].evidence(node, 1)
    current = any(in_current_run(hits, k) for k in ("bind", "reuseport", "serial"))
    advice = [REASONS[r] for r in reasons if r in REASONS]
    said = "; ".join(f"'{r}'" for r in sorted(reasons)) or "no reason given"
    fix = " / ".join(advice) or "look up the kernel's reason in the evidence (errno text) and fix what it names"
    yield fail(f"a medium could not open its socket or device: the kernel said {said}", evidence, fix=fix,
               when="now" if current else "past")
