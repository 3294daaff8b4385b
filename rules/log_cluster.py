"""Log rules about membership: dead nodes, partitions, late heartbeats, unacknowledged messages."""

from __future__ import annotations

from hadoctor.catalogue import pattern
from hadoctor.parsers.timespec import format_ms
from hadoctor.rulekit import START_PATTERN, Doc, fail, in_current_run, info, log_derivation, log_rule

DEAD = pattern("hb.node_dead")
PEER_SEEN = pattern("hb.status_update", status="up|active|init")

# shared derivations (rules read them by name, whatever else is selected)
PEER_DEATHS = log_derivation("peer_deaths", DEAD, "every 'node X: is dead' record of the log (group node: who was declared dead)")
RESTARTS = log_derivation("restarts", START_PATTERN, "every start (or restart exec) of heartbeat in the log")


@log_rule(
    "LOG010", "both nodes held the resources at once (split brain in the log)",
    severity="error",
    patterns={"both_own": pattern("hb.both_own"),
              "returning": pattern("hb.partition_return")},
    context={"start": START_PATTERN, "deadtime": pattern("hb.deadtime_small"),
             # the peer left (R1: the node that saw the partition return restarts itself): resolved
             "resolved": pattern("hb.shutdown_notice", "hb.peer_restart")},
    doc=Doc(
        meaning="The node saw its peer come back after a partition while both had taken the resources: each "
                "had declared the other dead and acquired the resource groups (the VIP was up on both nodes).",
        why="During the overlap the VIP answered from two MAC addresses and any shared data could be written "
            "by both nodes. Heartbeat then restarts itself on one node to resolve it.",
        fix="Find why heartbeats stopped: a firewall dropping the udpport, a single heartbeat path that "
            "failed, or a node frozen for longer than deadtime (see LOG011, LOG012, NET003). Add a second "
            "heartbeat path (another NIC or serial) and STONITH if shared storage is involved.",
        links=("http://linux-ha.org/wiki/Split_Brain",),
    ),
)
def split_brain_in_log(node, hits):
    returning = ", ".join(hits["returning"].values.get("node", {}))
    both = hits["both_own"].count
    current = in_current_run(hits, "both_own") or in_current_run(hits, "returning")
    if current and _after(hits["resolved"].last, hits["both_own"].last, hits["returning"].last):
        current = False
    parts = []
    if both:
        parts.append(f"'Both machines own ... resources' logged {both} time(s)")
    if returning:
        parts.append(f"{returning} returned after a partition")
    message = "; ".join(parts)
    yield fail(message, hits["returning"].evidence(node, 2) + hits["both_own"].evidence(node, 2),
               when="now" if current else "past")


@log_rule(
    "LOG011", "the peer was declared dead (failover)",
    severity="warning",
    patterns={"dead": DEAD},
    context={"start": START_PATTERN, "seen": PEER_SEEN,
             "takeover": pattern("md.takeover_complete", "md.takeover_group"),
             # heartbeat logs "Link peer:dev dead." only for a link that was up, and the history queue
             # fills only while the peer is live: both mean the peer had been heard
             "link_dead": pattern("hb.link_status", status="dead"),
             "queue": pattern("hb.hist_queue"),
             "shutdown": pattern("hb.shutdown_notice")},
    doc=Doc(
        meaning="The node stopped hearing its peer for longer than deadtime and declared it dead; with R1 "
                "resources it then took over the peer's resource groups.",
        why="A failover is expected when the peer really died. When the peer was alive (its own log goes on), "
            "heartbeats were lost: a blocked udpport, a single failed path, or a node frozen past deadtime.",
        fix="Compare with the peer's log at the same time. If the peer was up, check the heartbeat path "
            "(firewall rules for the udpport, NIC errors) and the timings (LOG012).",
    ),
)
def peer_declared_dead(node, hits):
    dead = hits["dead"]
    names = ", ".join(dead.values.get("node", {}))
    seen = hits["seen"]
    dead_names = {n.lower() for n in dead.values.get("node", {})}
    heard = bool(dead_names & {n.lower() for n in hits["link_dead"].values.get("node", {})}) or (
        hits["queue"].count > 0 and not _after(hits["queue"].first, dead.last))
    never_seen = not heard and (seen.first_time is None or (
        dead.first_time is not None and dead.first_time <= seen.first_time and dead.count == 1))
    if dead_names and dead_names <= {n.lower() for n in hits["shutdown"].values.get("node", {})} \
            and dead.count == 1 and _after(dead.last, hits["shutdown"].last):
        yield info(f"{names} announced its shutdown, then was declared dead (a planned stop)",
                   hits["shutdown"].evidence(node, 1) + dead.evidence(node, 1), when="past")
        return
    if never_seen:
        yield info(f"{names} was declared dead at start-up before it was ever heard (the peer was not "
                   f"running yet, or initdead passed first)", dead.evidence(node, 1), when="past")
        return
    groups = ", ".join(hits["takeover"].values.get("group", {}))
    message = f"{names} declared dead {dead.count} time(s)"
    if groups:
        message += f"; took over {groups}"
    yield fail(message, dead.evidence(node, 2) + hits["takeover"].evidence(node, 1), when="past")


@log_rule(
    "LOG012", "late heartbeats: deadtime/warntime too close to real delays",
    severity="warning",
    patterns={"late": pattern("hb.late_heartbeat")},
    wants=("ha_cf",),
    doc=Doc(
        meaning="Heartbeats from the peer arrived later than warntime (WARN) or even later than deadtime "
                "(CRIT, which declares the node dead).",
        why="Intervals near deadtime mean a short stall (load, I/O, VM pause, network) can cause a false "
            "failover and a split brain.",
        fix="Set warntime to about the longest interval seen and deadtime to at least twice it (keep deadtime "
            "> 2 x keepalive and initdead >= 2 x deadtime), on both nodes; or find the cause of the stalls.",
        links=("http://linux-ha.org/wiki/FAQ#Heavy_Load",),
    ),
)
def late_heartbeats(node, hits):
    late = hits["late"]
    worst = int(late.numbers["ms"][1])
    hacf = node.ha_cf
    peers = ", ".join(late.values.get("node", {}))
    if hacf is None:
        yield fail(f"{late.count} late heartbeat(s) from {peers}; longest {format_ms(worst)}",
                   late.evidence(node), when="past")
        return
    deadtime, warntime, keepalive = hacf.deadtime.value, hacf.warntime.value, hacf.keepalive.value
    want_dead = max(deadtime, 2 * worst)
    want_dead = -(-want_dead // 1000) * 1000
    arithmetic = (f"longest interval {format_ms(worst)} vs warntime {format_ms(warntime)}, deadtime "
                  f"{format_ms(deadtime)} (keepalive {format_ms(keepalive)}): suggest warntime "
                  f"{format_ms(-(-worst // 1000) * 1000)} and deadtime >= 2 x {format_ms(worst)} = "
                  f"{format_ms(want_dead)}, initdead >= {format_ms(2 * want_dead)}")
    severity = "error" if worst > deadtime else "warning"
    yield fail(f"{late.count} late heartbeat(s) from {peers}; {arithmetic}", late.evidence(node),
               severity=severity, when="past")


@log_rule(
    "LOG013", "the peer does not acknowledge our messages (one-way heartbeat loss)",
    severity="warning",
    patterns={"queue": pattern("hb.hist_queue")},
    context={"start": START_PATTERN},
    doc=Doc(
        meaning="More than 375 of this node's messages wait for the peer's acknowledgement: the peer hears "
                "nothing from us (or rejects our signatures) while we still hear it.",
        why="This is the signature of a one-way block: a firewall dropping the udpport in one direction, a "
            "wrong route, or authkeys that differ only on one side.",
        fix="Check the peer's INPUT rules for the udpport (iptables-save / nft list ruleset), the ucast "
            "target addresses, and compare authkeys fingerprints (hadoctor check on both nodes).",
    ),
)
def hist_queue_filling(node, hits):
    q = hits["queue"]
    yield fail(f"message history queue filling up ({q.count} warnings, up to "
               f"{int(q.numbers['n'][1])} unacknowledged messages): the peer does not hear this node",
               q.evidence(node, 2), when="now" if in_current_run(hits, "queue") else "past")


def _after(record, *others) -> bool:
    """Whether ``record`` was logged after every record of ``others`` (None ones ignored)."""
    if record is None:
        return False
    for other in others:
        if other is None:
            continue
        if record.time is not None and other.time is not None:
            if record.time != other.time:
                if record.time < other.time:
                    return False
                continue
        if (record.file, record.line) <= (other.file, other.line):
            return False
    return True
