"""Node names: ha.cf, haresources and the node's own name must agree."""

from __future__ import annotations

import collections

from hadoctor.rulekit import Doc, at, fail, rule


@rule("CFG301", "haresources names a node that ha.cf does not declare", severity="error",
      needs=("ha_cf", "haresources"), doc=Doc(
    meaning="The first word of each haresources line is the group's preferred node and must be a `node` of "
            "ha.cf (compared case-insensitively). heartbeat checks this at start ('Bad nodename in "
            "haresources') and refuses to start.",
    why="heartbeat does not start (even though it logged 'Configuration validated').",
    fix="Use one of the declared node names (`uname -n` of the node that should normally hold the group).",
))
def haresources_node_unknown(node):
    declared = {n.name for n in node.ha_cf.nodes}
    if not declared and node.ha_cf.autojoin.value != "none":
        return
    for group in node.haresources.groups:
        if group.node.lower() not in declared:
            yield fail(f"haresources line names {group.written_node or group.node!r}; ha.cf declares "
                       f"{', '.join(sorted(declared)) or 'no node'}",
                       [at(node, node.haresources.path, group.line, group.raw, observed=group.node,
                           expected=" or ".join(sorted(declared)))])


@rule("CFG302", "this node's name is not declared in ha.cf", severity="error", needs=("ha_cf", "uname"),
      doc=Doc(
    meaning="heartbeat names the local node by `uname -n` lower-cased (or /etc/ha.d/nodeinfo). That name must "
            "be one of the `node` lines; an FQDN where ha.cf has the short name (or the reverse) does not match.",
    why="heartbeat refuses to start ('Current node [..] not in configuration!').",
    fix="Make the node line equal to `uname -n` (hostname), on both nodes' ha.cf.",
))
def uname_not_declared(node):
    h = node.ha_cf
    declared = {n.name for n in h.nodes}
    if not declared:
        return  # CFG204
    name = node.uname.strip().lower()
    if name and name not in declared:
        short = name.split(".")[0]
        hint = ""
        if short in declared:
            hint = f" (ha.cf has the short name {short!r}; uname -n is the FQDN)"
        elif any(d.split(".")[0] == name for d in declared):
            hint = " (ha.cf has an FQDN; uname -n is the short name)"
        yield fail(f"uname -n is {name!r}, not among {', '.join(sorted(declared))}{hint}",
                   [at(node, node.source("uname"), 1, name, observed=name, expected=" or ".join(sorted(declared)))]
                   + [at(node, h.path, n.line, f"node {n.written}") for n in h.nodes])


@rule("CFG303", "the same VIP is declared in more than one resource group", severity="error",
      needs=("haresources",), doc=Doc(
    meaning="Two haresources lines carry the same IP address. Each group is started and stopped on its own, "
            "possibly on different nodes.",
    why="The VIP can be brought up by two groups (twice on one node, or on both nodes), and stopping one group "
        "takes the address away from the other.",
    fix="Keep each VIP in exactly one group; put the services that share it in that group.",
))
def vip_in_two_groups(node):
    seen = collections.defaultdict(list)
    for group in node.haresources.groups:
        for res in group.resources:
            if res.ip is not None and res.ip.ip is not None:
                seen[str(res.ip.ip)].append((group, res))
    for vip, uses in seen.items():
        groups = {id(g) for g, _ in uses}
        if len(groups) > 1:
            yield fail(f"VIP {vip} appears in {len(groups)} groups",
                       [at(node, node.haresources.path, r.line, g.raw) for g, r in uses])
