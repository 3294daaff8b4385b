"""Addresses versus configuration: will findif find the VIP's interface, do the media interfaces exist,
does the firewall drop heartbeat's port."""

from __future__ import annotations

from hadoctor.parsers.hacf import DEFAULT_UDPPORT
from hadoctor.rulekit import Doc, at, fail, rule


def _ip_resources(haresources):
    for group in haresources.groups:
        for res in group.resources:
            if res.ip is not None and res.ip.ip is not None:
                yield group, res


def _base_matches(table, vip):
    """The interfaces whose own (non-VIP) address puts the VIP in their subnet: what findif goes by.
    The VIP itself, when this node holds it, is no base address."""
    return [(i, a) for i, a in table.interfaces_on_subnet(vip) if a.interface.ip != vip]


def _addr_text(iface, addr):
    label = f" ({addr.label})" if addr.label else ""
    return f"{iface.name}{label} {addr.interface}"


@rule("NET001", "findif will not find an interface for the VIP", severity="error",
      needs=("haresources", "addresses"), doc=Doc(
    meaning="IPaddr/IPaddr2 choose the VIP's interface and netmask with findif: from the configured address "
            "whose subnet contains the VIP, unless haresources gives /cidr and the nic. On this node no "
            "interface has an address in the VIP's subnet and haresources gives no netmask/nic, so findif "
            "fails (or falls back to the default route: 'Cannot use default route w/o netmask'), or two "
            "interfaces match and the choice is ambiguous.",
    why="When this node has to take the group (failover), the VIP does not come up: the failover fails.",
    fix="Give ip/prefix/nic in haresources (IPaddr::192.0.2.50/24/eth0) and configure an address in the "
        "VIP's subnet on that interface on BOTH nodes.",
))
def findif_predicted(node):
    table = node.addresses
    for group, res in _ip_resources(node.haresources):
        spec = res.ip
        matches = _base_matches(table, spec.ip)
        ev = at(node, node.haresources.path, res.line, res.token, observed=", ".join(
            _addr_text(i, a) for i, a in matches) or "no interface in that subnet")
        if spec.nic:
            continue  # NET002 judges an explicit nic
        if not matches and spec.prefix is None:
            yield fail(f"VIP {spec.ip}: no interface has an address in its subnet and haresources gives no "
                       f"netmask or nic: findif fails on {node.name}", [ev])
        elif not matches:
            yield fail(f"VIP {spec.ip}/{spec.prefix}: no interface has an address in its subnet; findif would "
                       f"use the default route's interface", [ev], severity="warning")
        elif len({i.name for i, _ in matches}) > 1:
            yield fail(f"VIP {spec.ip}: {len(matches)} interfaces are in its subnet "
                       f"({', '.join(_addr_text(i, a) for i, a in matches)}); findif's choice is ambiguous",
                       [ev], severity="warning")


@rule("NET002", "the nic named for the VIP does not carry the VIP's subnet", severity="error",
      needs=("haresources", "addresses"), doc=Doc(
    meaning="haresources names a nic for the VIP (IPaddr::ip/cidr/nic), but on this node that interface does "
            "not exist, has no IPv4 address, or its address is in another subnet while another interface is "
            "in the VIP's subnet. IPaddr2 refuses ('Invalid parameter value: nic [..] Calculated nic: [..]'), "
            "findif.sh cannot derive the netmask, or the VIP lands on the wrong network.",
    why="The VIP does not come up on this node, or comes up where clients cannot reach it.",
    fix="Name the interface that carries the VIP's subnet on this node (interface names can differ between "
        "nodes: eth0 vs ens33), or give the netmask explicitly.",
))
def nic_mismatch(node):
    table = node.addresses
    for group, res in _ip_resources(node.haresources):
        spec = res.ip
        if not spec.nic:
            continue
        nic = spec.base_nic
        iface = table.get(nic)
        ev = at(node, node.haresources.path, res.line, res.token, observed=nic)
        if iface is None:
            yield fail(f"VIP {spec.ip}: interface {nic} does not exist on {node.name}", [ev])
            continue
        v4 = [a for a in iface.ipv4() if a.interface.ip != spec.ip]
        matches = _base_matches(table, spec.ip)
        if not v4 and spec.prefix is None:
            yield fail(f"VIP {spec.ip}: {nic} has no IPv4 address, so findif cannot derive the netmask", [ev])
        elif matches and nic not in {i.name for i, _ in matches}:
            calc = ", ".join(sorted({i.name for i, _ in matches}))
            yield fail(f"VIP {spec.ip}: nic {nic} is given but the VIP's subnet is on {calc}", [ev])


@rule("NET003", "the firewall drops heartbeat's UDP port", severity="error", needs=("firewall",),
      wants=("ha_cf",), doc=Doc(
    meaning="A firewall rule on this node drops or rejects UDP to or from the port heartbeat's media use "
            "(udpport, 694 by default, or the mcast port).",
    why="Heartbeats are lost in that direction: the peer (or this node) is declared dead, both nodes take the "
        "VIP (split brain), or messages are never acknowledged ('Message hist queue is filling up').",
    fix="Allow UDP on the heartbeat port from the peer's heartbeat addresses on every heartbeat interface "
        "(e.g. iptables -I INPUT -p udp --dport 694 -s <peer> -j ACCEPT), or remove the DROP rule.",
))
def firewall_blocks(node):
    for port in node.ha_cf.ports() if node.ha_cf is not None else [DEFAULT_UDPPORT]:
        rules = node.firewall.blocking_udp_port(port)
        if rules:
            yield fail(f"{len(rules)} rule(s) drop UDP port {port}",
                       [at(node, node.firewall.path, r.line, r.text, observed=r.action) for r in rules])


@rule("NET004", "a heartbeat medium names an interface this node does not have", severity="error",
      needs=("ha_cf", "addresses"), doc=Doc(
    meaning="A bcast/ucast/mcast line names a device that `ip a` of this node does not show. heartbeat fails "
            "at start (bcast: 'IP interface [..] does not exist') or right after it (ucast: SO_BINDTODEVICE "
            "No such device, then Emergency Shutdown).",
    why="heartbeat does not run on this node although the start command returned 0.",
    fix="Use this node's interface names in its ha.cf (they can differ between the nodes).",
))
def media_iface_missing(node):
    for medium in node.ha_cf.media:
        if medium.is_ping or not medium.iface or medium.kind == "serial":
            continue
        if node.addresses.get(medium.iface) is None:
            yield fail(f"{medium.kind} uses {medium.iface}, which does not exist here "
                       f"(interfaces: {', '.join(node.addresses.names())})",
                       [at(node, node.ha_cf.path, medium.line, f"{medium.kind} {medium.iface}",
                           observed=medium.iface)])


@rule("NET005", "/etc/hosts gives a node an address it does not have", severity="warning",
      needs=("hosts",), wants=("ha_cf", "addresses"), doc=Doc(
    meaning="/etc/hosts on this node maps a cluster node's name to an address that node does not carry (per "
            "its own `ip a`). ucast lines and tools that use the name (ha_propagate, ssh, the admin) then reach "
            "the wrong host or nothing.",
    why="A ucast line written with the node's name sends heartbeats to the wrong address; after a renumbering "
        "only half the configuration follows.",
    fix="Correct /etc/hosts on both nodes to the addresses the nodes really have (and that the ucast lines "
        "use).",
))
def hosts_disagree(node):
    for peer in [node] + node.peers:
        if peer.addresses is None:
            continue
        for address in node.hosts.addresses_for(peer.name):
            if address.is_loopback:
                continue
            if peer.addresses.find_address(address) is None:
                entry = next(e for e in node.hosts.entries if address == e.address)
                actual = ", ".join(str(a.interface.ip) for _, a in peer.addresses.addresses(4)
                                   if not a.interface.ip.is_loopback)
                yield fail(f"/etc/hosts says {peer.name} is {address}; {peer.name} has {actual or 'no IPv4'}",
                           [at(node, node.hosts.path, entry.line, f"{address} {' '.join(entry.names)}",
                               observed=str(address), expected=actual)])
