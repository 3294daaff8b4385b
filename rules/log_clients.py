"""Log rules about heartbeat's API clients run from respawn lines with haresources: ipfail and dopd."""

from __future__ import annotations

from hadoctor.catalogue import pattern
from hadoctor.rulekit import START_PATTERN, Doc, fail, in_current_run, info, log_rule


@log_rule(
    "LOG038", "ipfail gave the resources away: this node saw fewer ping nodes than its peer",
    severity="warning",
    patterns={"less": pattern("ipfail.less_ping", "ipfail.told_less_ping"),
              "more": pattern("ipfail.more_ping")},
    context={"start": START_PATTERN,
             "called": pattern("ipfail.giveup_called"),
             "dead": pattern("ipfail.we_are_dead")},
    doc=Doc(
        meaning="ipfail compares how many ping nodes (ha.cf's `ping` / `ping_group` lines) each node can reach. "
                "When a node or link dies, the node that sees fewer ping nodes gives its resources up (after "
                "twice the keepalive) to the node that sees more.",
        why="A failover happened because this node lost sight of its ping nodes: its route to them (a NIC, "
            "a cable, a switch port, the router) is broken, although heartbeat itself may still run. The "
            "resources come back only when the counts are balanced again and auto_failback is on.",
        fix="From this node, reach each ping node (`ping -c3 <address>`) and check the interface towards "
            "them (`ip a`: NO-CARRIER, DOWN), the switch port and the router; compare with the peer. A ping "
            "node must be something both nodes reach by the same path (the default gateway, not a host "
            "behind one node only).",
    ),
)
def ipfail_gave_up(node, hits):
    less, more = hits["less"], hits["more"]
    when = "now" if in_current_run(hits, "less") or in_current_run(hits, "more") else "past"
    if less.count:
        done = ", and gave them up" if hits["called"].count else ""
        yield fail(f"ipfail found fewer visible ping nodes here than on the peer{done} ({less.count} time(s))",
                   less.evidence(node, 2) + hits["dead"].evidence(node, 1), when=when)
    else:
        yield info(f"ipfail told the peer this node sees more ping nodes ({more.count} time(s)): the peer gave "
                   f"its resources up to this node", more.evidence(node, 2), when=when)


@log_rule(
    "LOG039", "ipfail or dopd cannot do its job (it exits at start, or cannot reach its peer)",
    severity="warning",
    patterns={"legacy": pattern("ipfail.legacy_failback", "ipfail.bad_failback"),
              "crm": pattern("ipfail.no_managed_resources"),
              "signon": pattern("api.cannot_sign_on"),
              "peer": pattern("dopd.peer_not_found", "dopd.peer_is_me", "dopd.peer_not_normal")},
    context={"start": START_PATTERN, "reason": pattern("api.reason")},
    doc=Doc(
        meaning="ipfail exits at start when auto_failback is 'legacy' (or not a boolean), or when heartbeat "
                "manages no resources (crm/pacemaker on); heartbeat then respawns it again and again. A client "
                "whose sign-on heartbeat refuses (no `apiauth` line for it, or its user not allowed by it) "
                "exits too. dopd cannot outdate the DRBD peer when the peer's host name in drbd.conf is not a "
                "heartbeat node name (uname -n), is this node's own name, or is a ping node.",
        why="Without ipfail nothing moves the resources when this node loses its network towards the "
            "clients; without dopd, DRBD's outdate-peer fencing fails and a node with stale data may be "
            "promoted (or DRBD refuses to become Primary).",
        fix="ipfail: set `auto_failback on` or `off` in ha.cf (not legacy); with crm/pacemaker on, remove the "
            "ipfail respawn line (pacemaker uses pingd). Sign-on refused: add `apiauth ipfail gid=haclient "
            "uid=hacluster` (or `apiauth dopd gid=haclient uid=hacluster`) matching the respawn user. dopd: "
            "make the host names in drbd.conf's `on <host>` sections equal heartbeat's node names.",
    ),
)
def client_cannot_work(node, hits):
    when = "now" if any(in_current_run(hits, k) for k in ("legacy", "crm", "signon", "peer")) else "past"
    if hits["legacy"].count:
        value = ", ".join(hits["legacy"].values.get("value", {})) or "legacy"
        yield fail(f"ipfail exits at start: auto_failback is {value}, ipfail needs on or off "
                   f"({hits['legacy'].count} time(s))", hits["legacy"].evidence(node, 2), when=when)
    if hits["crm"].count:
        yield fail(f"ipfail exits at start: heartbeat manages no resources (crm/pacemaker on) "
                   f"({hits['crm'].count} time(s))", hits["crm"].evidence(node, 2), when=when)
    if hits["signon"].count:
        first = hits["signon"].first
        who = first.component or "a client"
        reasons = "; ".join(hits["reason"].values.get("reason", {}))
        yield fail(f"{who} could not sign on to heartbeat ({hits['signon'].count} time(s))"
                   + (f": {reasons}" if reasons else ""),
                   hits["signon"].evidence(node, 2) + hits["reason"].evidence(node, 1), when=when)
    if hits["peer"].count:
        peers = ", ".join(hits["peer"].values.get("peer", {})) or ", ".join(hits["peer"].values.get("node", {}))
        yield fail(f"dopd cannot outdate the DRBD peer {peers}: not a heartbeat node of this cluster "
                   f"({hits['peer'].count} time(s))", hits["peer"].evidence(node, 2), when=when)
