"""Services behind the VIP (the Asterisk/MOR VoIP setups many Heartbeat users run).

These rules apply only when the node folder has a ``services/`` folder (live: /etc/asterisk) with
sip.conf, iax.conf, h323.conf, manager.conf or mor.conf. Secrets in them are never shown."""

from __future__ import annotations

import ipaddress

from hadoctor.rulekit import Doc, at, fail, rule

BIND_KEYS = {"sip.conf": "bindaddr", "iax.conf": "bindaddr", "h323.conf": "bindaddr", "manager.conf": "bindaddr"}


def _vips(node):
    result = set()
    for peer in [node] + node.peers:
        if peer.haresources is None:
            continue
        for group in peer.haresources.groups:
            for res in group.resources:
                if res.ip is not None and res.ip.ip is not None:
                    result.add(res.ip.ip)
    return result


@rule("SVC001", "a service behind the VIP binds the node's own address", severity="warning",
      needs=("service_configs", "haresources"), doc=Doc(
    meaning="sip.conf, iax.conf, h323.conf or manager.conf sets bindaddr to an address that is neither the VIP "
            "nor 0.0.0.0 (all addresses).",
    why="After a failover the service on the other node listens on that node's own address, not on the VIP "
        "that moved to it: phones and trunks pointed at the VIP get no answer.",
    fix="Set bindaddr to the VIP (then the service must start after the VIP, in the same haresources group) "
        "or to 0.0.0.0.",
))
def bind_not_vip(node):
    vips = _vips(node)
    for name, key in BIND_KEYS.items():
        conf = node.service_configs.files.get(name)
        if conf is None:
            continue
        for entry in conf.find(key):
            try:
                addr = ipaddress.ip_address(str(entry.value).split(":")[0])
            except ValueError:
                continue
            if not addr.is_unspecified and addr not in vips:
                yield fail(f"{name}: {key} = {addr} is not a VIP ({', '.join(map(str, sorted(vips))) or 'none'}) "
                           f"nor 0.0.0.0", [at(node, conf.path, entry.line, f"{key} = {addr}", observed=str(addr),
                                               expected="a VIP or 0.0.0.0")])


@rule("SVC002", "both nodes have the same MOR server_id", severity="error", scope="cluster",
      needs=("service_configs",), doc=Doc(
    meaning="mor.conf's server_id identifies the server to the MOR database; the two nodes of a cluster must "
            "have different ids.",
    why="Both servers write as the same server: calls, statistics and locks mix up after a failover.",
    fix="Give each node its own server_id in mor.conf.",
))
def same_server_id(cluster):
    ids = {}
    for n in cluster.with_data("service_configs"):
        conf = n.service_configs.files.get("mor.conf")
        if conf is None:
            continue
        for entry in conf.find("server_id"):
            ids.setdefault(str(entry.value), []).append((n, conf, entry))
    for value, uses in ids.items():
        if len({n.name for n, _, _ in uses}) > 1:
            yield fail(f"server_id {value} on {', '.join(n.name for n, _, _ in uses)}",
                       [at(n, c.path, e.line, f"server_id = {value}") for n, c, e in uses])
