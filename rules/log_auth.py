"""Log rules about authentication: another cluster on the same port, keys that differ."""

from __future__ import annotations

from hadoctor.catalogue import pattern
from hadoctor.rulekit import START_PATTERN, Doc, fail, in_current_run, log_rule

AUTH_FAILURES = {
    "invalid_index": pattern("hb.auth_invalid_index"),
    "failed_auth": pattern("glue.failed_auth"),
    "bad_node": pattern("hb.bad_node"),
    "token": pattern("glue.authtoken_mismatch", "glue.netstring_auth_failed", "hb.bad_auth_token"),
}
CONTEXT = {"start": START_PATTERN, "dump_src": pattern("glue.msg_dump_src")}


def _senders(hits):
    names = {}
    for key in ("failed_auth", "bad_node", "dump_src"):
        if key not in hits:
            continue  # LOG021 does not track bad_node
        for name, count in hits[key].values.get("src", {}).items():
            names[name.lower()] = names.get(name.lower(), 0) + count
    return names


def _cluster_nodes(node):
    hacf = node.ha_cf
    return {n.name for n in hacf.nodes} if hacf is not None else set()


@log_rule(
    "LOG020", "another cluster sends heartbeats on the same port",
    severity="error",
    patterns=AUTH_FAILURES, context=CONTEXT, wants=("ha_cf",),
    doc=Doc(
        meaning="Heartbeat received packets from nodes that are not in this cluster's ha.cf: another "
                "Heartbeat cluster broadcasts or multicasts on the same segment and udpport. With another key "
                "heartbeat logs 'Invalid authentication' / 'failed authentication' / 'authtoken does not "
                "match'; with the same key it accepts the signature and logs 'bad node [X] in message'.",
        why="Every foreign packet costs log lines and CPU; with the same key and autojoin a foreign node can "
            "even join the cluster. It also hides real authentication problems.",
        fix="Give each cluster its own udpport (before the first bcast/ucast line in ha.cf, identical on both "
            "nodes) or its own mcast group, and never share authkeys between clusters: when the foreign "
            "cluster's packets were accepted ('bad node'), rotate authkeys (hadoctor fix --authkeys).",
    ),
)
def foreign_cluster(node, hits):
    ours = _cluster_nodes(node)
    senders = _senders(hits)
    foreign = sorted(n for n in senders if n not in ours and n != node.name)
    indexes = sorted(hits["invalid_index"].values.get("index", {}))
    if not foreign and not (indexes and not senders):
        return
    port = node.ha_cf.udpport if node.ha_cf is not None else None
    udpport = port.value if port is not None else 694
    shared_key = hits["bad_node"].count > 0
    message = f"packets from nodes outside this cluster: {', '.join(foreign) or 'unknown (no sender logged)'}"
    if indexes:
        message += f"; auth index(es) {', '.join(indexes)} not in our authkeys"
    if shared_key:
        message += "; their signatures verified, so they use OUR key"
    fix = (f"give this cluster a distinct udpport (e.g. {udpport + 1}, before the media lines, on both nodes)"
           + (" and rotate authkeys: the other cluster has our key (hadoctor fix --authkeys)" if shared_key else ""))
    evidence = []
    for key in ("bad_node", "failed_auth", "invalid_index", "token"):
        evidence.extend(hits[key].evidence(node, 1))
    current = any(in_current_run(hits, k) for k in AUTH_FAILURES)
    yield fail(message, evidence, fix=fix, when="now" if current else "past")


@log_rule(
    "LOG021", "the peer's heartbeats fail authentication (authkeys differ between the nodes)",
    severity="error",
    patterns={k: v for k, v in AUTH_FAILURES.items() if k != "bad_node"}, context=CONTEXT, wants=("ha_cf",),
    doc=Doc(
        meaning="Packets from a node of this cluster were rejected: its authkeys (active index, method or "
                "key) differ from this node's. On Debian bookworm (netstring wire format) a receiver verifies "
                "every packet with its own ACTIVE key, so even a staged key rotation drops the peer.",
        why="Heartbeats from the peer are dropped: after deadtime the peer is declared dead and both nodes "
            "take the resources (split brain).",
        fix="Make /etc/ha.d/authkeys identical on both nodes (same auth line, same key), mode 0600, then "
            "reload with `heartbeat -r` or use hadoctor fix --authkeys.",
    ),
)
def peer_key_mismatch(node, hits):
    ours = _cluster_nodes(node)
    senders = _senders(hits)
    peers = sorted(n for n in senders if n in ours and n != node.name)
    if not peers:
        return
    evidence = []
    for key in ("token", "failed_auth", "invalid_index"):
        evidence.extend(hits[key].evidence(node, 2))
    current = any(in_current_run(hits, k) for k in ("token", "failed_auth", "invalid_index"))
    yield fail(f"heartbeats from {', '.join(peers)} fail authentication here", evidence,
               when="now" if current else "past")
