"""Cross-node rules: what must be equal on both nodes, what must mirror, and who holds each VIP."""

from __future__ import annotations

import ipaddress

from hadoctor.parsers.timespec import format_ms
from hadoctor.rulekit import Doc, Evidence, at, derivation, fail, info, rule


@derivation("log_end", "the time of the log's last record", needs=("log",))
def _log_end(node):
    return node.log.end_time()


def _vips(cluster):
    seen = {}
    for n in cluster.nodes:
        if n.haresources is None:
            continue
        for group in n.haresources.groups:
            for res in group.resources:
                if res.ip is not None and res.ip.ip is not None:
                    seen.setdefault(res.ip.ip, (n, group, res))
    return seen


def _vip_holders(cluster):
    """Each haresources VIP with the node and line declaring it, and the nodes whose addresses carry it."""
    for vip, (owner, group, res) in _vips(cluster).items():
        holders = []
        for n in cluster.with_data("addresses"):
            found = n.addresses.find_address(vip)
            if found is not None:
                holders.append((n, found))
        yield vip, owner, group, res, holders


@rule("XND001", "a VIP is up on both nodes", severity="error", scope="cluster",
      needs=("haresources", "addresses"), doc=Doc(
    meaning="The same haresources VIP is configured on more than one node right now (`ip a` of each node).",
    why="Clients reach whichever node answered ARP last: sessions break and data written through the VIP is "
        "split between the nodes. This is the visible face of a split brain.",
    fix="Find why the nodes stopped hearing each other (LOG011, NET003, CFG201), restore the heartbeat path, "
        "then stop heartbeat on the node that should not hold the VIP (`heartbeat -k` / service stop) and "
        "start it again; remove any static configuration of the VIP (LOG003).",
))
def vip_on_both(cluster):
    for vip, _owner, _group, _res, holders in _vip_holders(cluster):
        if len(holders) > 1:
            yield fail(f"VIP {vip} is up on {', '.join(n.name for n, _ in holders)}",
                       [at(n, n.source("addresses"), a.line, f"{i.name} {a.interface}", observed=i.mac)
                        for n, (i, a) in holders])


@rule("XND009", "a VIP is up on no node", severity="info", scope="cluster",
      needs=("haresources", "addresses"), doc=Doc(
    meaning="A haresources VIP is configured on none of the nodes right now (`ip a` of each node): the "
            "resource group is not running anywhere.",
    why="The service behind the VIP is unreachable. Expected while heartbeat is stopped on every node or "
        "still starting (initdead); otherwise a start failed (LOG001, LOG002) or the group was released.",
    fix="Look at the resource messages in the logs (LOG001, LOG002, LOG004) and at `cl_status rscstatus`; "
        "start heartbeat on the node that should hold the group, or take it over there with `/usr/share/heartbeat/hb_takeover`.",
))
def vip_on_none(cluster):
    for vip, owner, group, res, holders in _vip_holders(cluster):
        if not holders:
            yield info(f"VIP {vip} is up on no node (group {group.key})",
                       [at(owner, owner.haresources.path, res.line, res.token)])


@rule("XND002", "the nodes declared each other dead while both were running (partition or freeze)",
      severity="warning", scope="cluster", needs=("log",),
      wants=("ha_cf", "peer_deaths", "restarts", "stalls", "log_end"), doc=Doc(
    meaning="The logs show a node declaring its peer dead while that peer did not crash: both declared each "
            "other dead (heartbeats lost in both directions: a firewall rule, a failed single path, a switch), "
            "or one did while the other kept running without a restart (heartbeats lost in one direction), or "
            "a node was frozen (dispatch delays longer than deadtime) and both sides timed out. A finding from "
            "the logs' history; XND001 tells whether the VIP is on both nodes now.",
    why="Both nodes take the resources: the VIP is up twice (split brain) until the path returns.",
    fix="Check the firewall on both nodes for the udpport (NET003), the links of every heartbeat interface, "
        "add a second independent heartbeat path (CFG201); for a frozen node find what stalled it (LOG032) "
        "and raise deadtime.",
))
def partition(cluster):
    deaths = {n.name: n.peer_deaths for n in cluster.nodes if n.peer_deaths is not None and n.peer_deaths.count}
    for a, dead_a in sorted(deaths.items()):
        for victim in dead_a.values.get("node", {}):
            peer = cluster.node(victim)
            if peer is None or victim == a:
                continue
            frozen = _frozen(cluster, dead_a)
            dead_b = deaths.get(victim)
            if dead_b is not None and a in dead_b.values.get("node", {}):
                if a > victim:
                    continue  # reported once for the pair
                evidence = dead_a.evidence(a, 1) + dead_b.evidence(victim, 1)
                if frozen:
                    name, ms, hits = frozen
                    yield fail(f"{name} was stalled for {ms / 1000:g} s (longer than deadtime): {a} and {victim} "
                               f"declared each other dead", evidence + hits.evidence(name, 1), when="past")
                else:
                    yield fail(f"{a} and {victim} each declared the other dead: heartbeats were lost in both "
                               f"directions", evidence, when="past")
                continue
            end = peer.log_end
            if frozen or end is None or _restarted_after(peer, dead_a.first_time):
                continue  # a real crash (or freeze) of the peer, not a lost path
            if end is not None and dead_a.last_time is not None and end > dead_a.last_time:
                yield fail(f"{a} declared {victim} dead while {victim} kept running without a restart (its log "
                           f"goes on until {end:%H:%M:%S}): heartbeats from {victim} to {a} were lost",
                           dead_a.evidence(a, 2), when="past")


def _restarted_after(node, when):
    start = node.restarts
    return bool(start and start.last_time and when and start.last_time >= when)


def _frozen(cluster, dead):
    """(node, ms, hits) of a dispatch stall longer than deadtime on any node, if one was logged."""
    for n in cluster.nodes:
        stalls = n.stalls
        if stalls is None or "ms" not in stalls.numbers:
            continue
        deadtime = n.ha_cf.deadtime.value if n.ha_cf is not None else 30000
        worst = stalls.numbers["ms"][1]
        if worst >= deadtime:
            return n.name, worst, stalls
    return None


def _norm_groups(haresources):
    return [(g.node.lower(), tuple(r.canonical for r in g.resources)) for g in haresources.groups]


@rule("XND003", "haresources differs between the nodes", severity="error", scope="cluster",
      needs=("haresources",), doc=Doc(
    meaning="haresources must be identical on all nodes: the same groups, the same preferred node, the same "
            "resources in the same order. ResourceManager on each node reads its own copy.",
    why="Each node may think a group is its own: both acquire it (split brain without any network fault), or "
        "neither does.",
    fix="Copy one haresources to the other node (scp -p) and keep them in configuration management.",
))
def haresources_differ(cluster):
    nodes = cluster.with_data("haresources")
    base = nodes[0]
    for other in nodes[1:]:
        if _norm_groups(base.haresources) != _norm_groups(other.haresources):
            evidence = []
            for n in (base, other):
                evidence += [at(n, n.haresources.path, g.line, g.raw) for g in n.haresources.groups[:3]]
            yield fail(f"haresources on {base.name} and {other.name} differ", evidence)


@rule("XND004", "authkeys differ between the nodes", severity="error", scope="cluster", needs=("authkeys",),
      doc=Doc(
    meaning="The active authkeys entry (index, method, key: compared by keyed fingerprint, never the key) is "
            "not the same on both nodes.",
    why="Each node rejects the other's heartbeats ('authtoken does not match' / 'failed authentication'): "
        "after deadtime both declare the other dead and both take the VIP.",
    fix="Install the same authkeys (mode 0600) on both nodes and reload with `heartbeat -r`, or run hadoctor "
        "fix --authkeys.",
))
def authkeys_differ(cluster):
    nodes = cluster.with_data("authkeys")
    views = []
    for n in nodes:
        active = n.authkeys.active
        views.append((n, (active.index, active.method, active.fingerprint) if active else None))
    base_node, base = views[0]
    for other, view in views[1:]:
        if view != base:
            def describe(v):
                return "no active key" if v is None else f"auth {v[0]} {v[1]} key {v[2]}"
            yield fail(f"{base_node.name}: {describe(base)}; {other.name}: {describe(view)}",
                       [at(n, n.authkeys.path, n.authkeys.active.line if n.authkeys.active else 0,
                           describe(v)) for n, v in ((base_node, base), (other, view))])


_EQUAL = (
    ("udpport", lambda h: tuple(sorted(h.udpport_for_media().items())), "error"),
    ("node list", lambda h: tuple(sorted(n.name for n in h.nodes)), "error"),
    ("media kinds", lambda h: tuple(sorted({m.kind for m in h.media if not m.is_ping})), "warning"),
    ("keepalive", lambda h: h.keepalive.value, "warning"),
    ("deadtime", lambda h: h.deadtime.value, "warning"),
    ("warntime", lambda h: h.warntime.value, "warning"),
    ("initdead", lambda h: h.initdead.value, "warning"),
    ("auto_failback", lambda h: h.auto_failback.value, "warning"),
    ("pacemaker", lambda h: h.pacemaker.value, "error"),
)


@rule("XND005", "ha.cf settings that must be equal differ between the nodes", severity="error",
      scope="cluster", needs=("ha_cf",), doc=Doc(
    meaning="udpport, the node list, the media kinds, the timings, auto_failback and crm/pacemaker must be the "
            "same on every node.",
    why="Different ports or node lists mean the nodes never hear each other; different timings mean one node "
        "declares the other dead earlier than expected; different failback settings make resources bounce.",
    fix="Keep one ha.cf (only interface names and ucast peers may differ) and copy it to both nodes.",
))
def hacf_differ(cluster):
    nodes = cluster.with_data("ha_cf")
    base = nodes[0]
    for other in nodes[1:]:
        for name, get, severity in _EQUAL:
            a, b = get(base.ha_cf), get(other.ha_cf)
            if a != b:
                shown = (lambda v: format_ms(v)) if isinstance(a, int) and name not in ("udpport",) else str
                yield fail(f"{name}: {base.name} has {shown(a)}, {other.name} has {shown(b)}",
                           [Evidence(node=base.name, file=base.ha_cf.path, observed=str(a)),
                            Evidence(node=other.name, file=other.ha_cf.path, observed=str(b))], severity=severity)


@rule("XND006", "ucast lines do not point at the peer", severity="error", scope="cluster",
      needs=("ha_cf", "addresses"), wants=("hosts",), doc=Doc(
    meaning="A node's ucast lines must send to the peer's address on that link (A's ucast targets B's IP and "
            "B's targets A's). Lines aimed at the node's own address are harmless (identical files on both "
            "nodes are normal) but a node whose ucast lines never reach the peer sends nothing to it.",
    why="With ucast as the only medium the peer never hears this node: after initdead it takes the resources "
        "(both nodes end up holding everything).",
    fix="On each node, give `ucast <iface> <peer's address on that interface>` (the same file on both nodes "
        "can list both addresses).",
))
def ucast_mirror(cluster):
    nodes = cluster.with_data("ha_cf", "addresses")
    for n in nodes:
        ucast = [m for m in n.ha_cf.media if m.kind in ("ucast", "ucast6") and m.peer]
        if not ucast:
            continue
        peers = [p for p in nodes if p is not n]
        reached = set()
        for m in ucast:
            target = _resolve(m.peer, n)
            for p in peers:
                if target is not None and p.addresses.find_address(target) is not None:
                    reached.add(p.name)
        for p in peers:
            if p.name not in reached:
                yield fail(f"no ucast line on {n.name} targets an address of {p.name}",
                           [at(n, n.ha_cf.path, m.line, f"ucast {m.iface} {m.peer}") for m in ucast],
                           node=n.name)


def _resolve(peer, node):
    try:
        return ipaddress.ip_address(peer)
    except ValueError:
        pass
    if node.hosts is not None:
        found = node.hosts.addresses_for(peer)
        if found:
            return found[0]
    return None


@rule("XND007", "heartbeat, cluster-glue or resource-agents versions differ between the nodes",
      severity="warning", scope="cluster", needs=("packages",), doc=Doc(
    meaning="The HA stack packages are not the same version on both nodes.",
    why="Wire format (classic vs netstring), agent behaviour (findif, HA_BIN) and bugs differ between "
        "versions: a failover can behave differently from the other direction.",
    fix="Install the same versions on both nodes.",
))
def versions_differ(cluster):
    nodes = cluster.with_data("packages")
    for name in ("heartbeat", "cluster-glue", "resource-agents", "libheartbeat2"):
        versions = {n.name: n.packages.version_of(name) for n in nodes}
        if len({str(v) for v in versions.values()}) > 1:
            yield fail(f"{name}: " + ", ".join(f"{k} {v or 'not installed'}" for k, v in versions.items()),
                       [Evidence(node=k, file=cluster.node(k).source("packages"), observed=str(v))
                        for k, v in versions.items()])


@rule("XND008", "addresses do not follow the MOR convention (one subnet, VIP's last octet highest)",
      severity="info", scope="cluster", needs=("haresources", "addresses"), opt_in=True, doc=Doc(
    meaning="The MOR (Kolmisoft) admin guide puts both nodes and the VIP in one subnet, with the VIP's last "
            "octet higher than the nodes' (e.g. nodes .11 and .12, VIP .13). Opt-in: run it with "
            "--select XND008.",
    why="A shared convention makes it obvious which address is which when reading configs and captures.",
    fix="Renumber when convenient; nothing breaks because of it.",
))
def mor_convention(cluster):
    for vip, (owner, group, res) in _vips(cluster).items():
        problems = []
        for n in cluster.with_data("addresses"):
            same = [a for _, a in n.addresses.interfaces_on_subnet(vip) if a.interface.ip != vip]
            if not same:
                problems.append(f"{n.name} has no address in {vip}'s subnet")
                continue
            highest = max(int(a.interface.ip) for a in same)
            if int(vip) <= highest:
                problems.append(f"{n.name}'s address {ipaddress.ip_address(highest)} is above the VIP")
        if problems:
            yield info(f"VIP {vip}: " + "; ".join(problems), [at(owner, owner.haresources.path, res.line, res.token)])
