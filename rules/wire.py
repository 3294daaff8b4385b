"""Rules on heartbeat traffic seen on the wire (a capture or a `probe listen` report)."""

from __future__ import annotations

from hadoctor.rulekit import Doc, Evidence, fail, rule


def _ev(node, text, observed=None):
    return Evidence(node=node.name, file=node.source("wire"), text=text, observed=observed)


@rule("NET010", "another cluster's heartbeats are on this cluster's segment and port", severity="error",
      needs=("wire",), wants=("ha_cf",), doc=Doc(
    meaning="The capture holds heartbeat packets from node names that are not in this node's ha.cf: another "
            "Heartbeat cluster broadcasts or multicasts on the same segment and udpport.",
    why="Every foreign packet is rejected with log noise and CPU, or (same key) accepted as a 'bad node'; "
        "with autojoin a foreign node can join the cluster.",
    fix="Give each cluster its own udpport (before the first media line, same on both nodes) or its own "
        "multicast group; never share authkeys between clusters.",
))
def foreign_on_wire(node):
    foreign = node.wire.foreign
    if foreign and node.ha_cf is not None and node.ha_cf.nodes:
        names = ", ".join(sorted({f["node"] for f in foreign}))
        port = node.ha_cf.udpport.value if node.ha_cf.udpport else 694
        yield fail(f"heartbeats from {names} (not in this cluster) in the capture",
                   [_ev(node, f"{f['node']} from {f['address']}: {f['packets']} packet(s), auth index "
                              f"{', '.join(map(str, f.get('auth_indexes', ())))}", f["node"]) for f in foreign],
                   fix=f"give one cluster another udpport (e.g. {port + 1})")


@rule("NET011", "a cluster node's heartbeats fail authentication with this node's authkeys", severity="error",
      needs=("wire", "authkeys"), wants=("ha_cf",), doc=Doc(
    meaning="Packets in the capture sent by a node of this cluster do not verify with this node's authkeys "
            "(wrong key, or an index this node does not have).",
    why="This node drops those heartbeats: after deadtime it declares the sender dead and takes its resources.",
    fix="Make authkeys identical on both nodes (hadoctor fix --authkeys).",
))
def peer_fails_auth_on_wire(node):
    ours = {n.name for n in node.ha_cf.nodes} if node.ha_cf is not None else set()
    for sender in node.wire.senders:
        bad = {k: v for k, v in sender.auth_results.items() if k != "ok"}
        if bad and (not ours or sender.node in ours):
            yield fail(f"{sender.node} ({sender.address}): " + ", ".join(f"{v} {k}" for k, v in bad.items()),
                       [_ev(node, f"{sender.node} from {sender.address}", ", ".join(bad))])
