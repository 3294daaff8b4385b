"""Heartbeat media and membership directives in ha.cf."""

from __future__ import annotations

from hadoctor.rulekit import Doc, at, fail, info, rule

UDP_MEDIA = ("bcast", "ucast", "ucast6", "mcast", "mcast6")


def _heartbeat_media(hacf):
    return [m for m in hacf.media if not m.is_ping]


@rule("CFG201", "only one heartbeat path", severity="warning", needs=("ha_cf",), doc=Doc(
    meaning="Every heartbeat medium uses the same interface (one ucast line, or bcast and ucast on the same "
            "NIC, or a single mcast), so one cable, NIC, switch port or firewall rule separates the nodes.",
    why="When that one path fails both nodes declare each other dead and both take the VIP: split brain. "
        "Every Heartbeat guide recommends two independent paths.",
    fix="Add a second medium on another interface (a crossover cable with its own ucast/bcast line, or a "
        "serial line), on both nodes.",
))
def single_path(node):
    media = _heartbeat_media(node.ha_cf)
    if not media:
        return  # CFG204
    paths = {m.iface or m.peer or m.kind for m in media}
    if len(paths) == 1:
        path = next(iter(paths))
        yield fail(f"all {len(media)} heartbeat medium/media use {path}",
                   [at(node, node.ha_cf.path, m.line, f"{m.written_as or m.kind} {m.iface or ''} {m.peer or m.group or ''}".strip())
                    for m in media])


@rule("CFG202", "udpport comes after a bcast/ucast line, so those media use another port", severity="error",
      needs=("ha_cf",), doc=Doc(
    meaning="Each udp media plugin reads udpport once, when its first line is parsed. A udpport line after the "
            "first bcast/ucast line does not reach those media: they keep 694 (or an earlier udpport).",
    why="The cluster listens on a port the admin did not choose; a node with the lines in another order uses a "
        "different port, and the nodes never hear each other.",
    fix="Move `udpport` above every bcast/ucast/ucast6 line, identically on both nodes.",
))
def udpport_after_media(node):
    h = node.ha_cf
    if h.udpport is None:
        return
    wrong = {kind: port for kind, port in h.udpport_for_media().items() if port != h.udpport.value}
    if wrong:
        first = min((m for m in h.media if m.kind in wrong), key=lambda m: m.index, default=None)
        evidence = [at(node, h.path, h.udpport.line, f"udpport {h.udpport.text}", observed=h.udpport.value)]
        if first is not None:
            evidence.insert(0, at(node, h.path, first.line, f"{first.kind} {first.iface or ''}".strip()))
        ports = ", ".join(f"{k} uses {v}" for k, v in sorted(wrong.items()))
        yield fail(f"udpport {h.udpport.value} is set after the first media line: {ports}", evidence)


@rule("CFG203", "no heartbeat medium is configured", severity="error", needs=("ha_cf",), doc=Doc(
    meaning="ha.cf has no bcast, ucast, mcast or serial line; heartbeat refuses to start ('No heartbeat media "
            "defined').",
    why="heartbeat does not start.",
    fix="Add at least one medium, better two on different interfaces (e.g. `bcast eth0` and `ucast eth1 "
        "<peer address>`).",
))
def no_media(node):
    if not _heartbeat_media(node.ha_cf):
        yield fail("no bcast/ucast/mcast/serial line", [at(node, node.ha_cf.path, 0, "no media directives")])


@rule("CFG204", "no node is declared", severity="error", needs=("ha_cf",), doc=Doc(
    meaning="ha.cf has no `node` line. Unless `autojoin any` is set heartbeat refuses to start ('no nodes "
            "defined'), and haresources needs declared nodes.",
    why="heartbeat does not start, or (autojoin) any host sending heartbeats with the key joins the cluster.",
    fix="Declare both nodes by their `uname -n` names: `node node01` and `node node02`.",
))
def no_nodes(node):
    h = node.ha_cf
    if h.nodes:
        return
    if h.autojoin.value == "any":
        yield info("no node lines: membership comes from autojoin any", [at(node, h.path, h.autojoin.line,
                                                                            "autojoin any")])
    else:
        yield fail("no node lines", [at(node, h.path, 0, "no node directive")])


@rule("CFG205", "pacemaker (crm) is on while haresources defines resources", severity="warning",
      needs=("ha_cf", "haresources"), doc=Doc(
    meaning="With `crm on` / `pacemaker on` heartbeat ignores haresources ('This file is not used because "
            "pacemaker is enabled') and runs Pacemaker's CRM instead.",
    why="The resource groups in haresources are never started; the VIP stays down.",
    fix="For an R1 (haresources) cluster set `crm no` (or remove the line); otherwise move the resources "
        "into the CIB and empty haresources.",
))
def pacemaker_with_haresources(node):
    h = node.ha_cf
    if h.pacemaker_enabled and node.haresources.groups:
        yield fail(f"{h.pacemaker.name} {h.pacemaker.text} while haresources has "
                   f"{len(node.haresources.groups)} group(s)",
                   [at(node, h.path, h.pacemaker.line, f"{h.pacemaker.name} {h.pacemaker.text}"),
                    at(node, node.haresources.path, node.haresources.groups[0].line, node.haresources.groups[0].raw)])


@rule("CFG206", "auto_failback is left at 'legacy'", severity="info", needs=("ha_cf",), doc=Doc(
    meaning="Without auto_failback (or with nice_failback off) heartbeat runs in the deprecated legacy mode "
            "and logs 'Deprecated legacy auto_failback option selected' at every start; hb_standby does not "
            "work in that mode.",
    why="Failback behaviour is undocumented for readers of the file and standby/takeover tools refuse to work.",
    fix="Choose explicitly: `auto_failback on` (resources return to their preferred node) or `off`.",
))
def legacy_failback(node):
    h = node.ha_cf
    if h.auto_failback.value == "legacy" and not h.pacemaker_enabled:
        yield info("auto_failback is legacy" + ("" if h.auto_failback.explicit else " (not set)"),
                   [at(node, h.path, h.auto_failback.line, f"auto_failback {h.auto_failback.text}")])
