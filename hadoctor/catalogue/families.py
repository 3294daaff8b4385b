"""Diagnosis families: what a catalogued complaint without a dedicated rule means, and what to do about it.

Most of the ERROR/CRIT/WARN messages of heartbeat, cluster-glue and the agents are internal checks of
one part of the stack (a medium plugin, the client API, message encoding, ...): a dedicated rule for
each would repeat the same advice a hundred times. A family gives that part's meaning and the fix an
experienced Linux-HA admin gives for any of its complaints; the catch-all (LOG090) quotes the line
with its family's label, and carries the meaning and the fix as the finding's fix.

A message belongs to the family of its first upstream source (``package:path``): the path, or the path
and a message-name prefix where one file holds several kinds of complaint (:data:`MEMBERS`; first match
wins, a file before its directory). A family with ``benign`` set makes its members benign (test programs no cluster runs).

>>> of_source("glue-1.0.12:lib/clplumbing/ipcsocket.c", "glue.x").code
'client-ipc'
>>> of_source("heartbeat-3.0.6:heartbeat/heartbeat.c", "hb.watchdog_write_failure_closing").code
'watchdog'
>>> of_source("heartbeat-2.1:heartbeat/heartbeat.c", "hb.anything").code
'hb-core'
>>> of_source("heartbeat-3.0.6:heartbeat/heartbeat.c", "hb.write_failure").code  # a medium's write child
'medium'
>>> of_source("agents-4.12:heartbeat/Nonesuch", "ra.x") is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple


@dataclass(frozen=True)
class Family:
    """``label`` is short (it goes in the finding's one-line text); ``meaning`` and ``fix`` are one
    sentence or two each."""

    code: str
    label: str
    meaning: str
    fix: str
    benign: Optional[str] = None


FAMILIES: Tuple[Family, ...] = (
    Family("medium", "a heartbeat medium",
           "A communication path (bcast, mcast, ucast, serial, ...) could not open, configure, read or write "
           "its socket or device; while it fails the cluster runs on its other paths, or on none.",
           "Find the medium's directive in ha.cf (the plugin named on the line); check that the interface "
           "or tty exists and is up (ip -s link, dmesg), that the port/group is not taken (ss -ulpn) and "
           "that the quoted system error (after the colon) is fixed; restart heartbeat on that node."),
    Family("ping-node", "a ping node medium",
           "A ping/ping6/hbaping medium (ping or ping_group in ha.cf) could not send to or hear from its "
           "ping node: ipfail loses the connectivity it judges by.",
           "Check the ping node's address in ha.cf, that it answers ICMP from this node (ping -c3), the route "
           "and any firewall dropping ICMP; a raw socket needs heartbeat to run as root."),
    Family("client-ipc", "heartbeat's client IPC",
           "A client of heartbeat (ipfail, dopd, cl_status, crm tools) or heartbeat itself lost or could not "
           "use its IPC channel (unix socket under /var/run/heartbeat): usually the client crashed or was "
           "restarted, or the node was starved of CPU or memory.",
           "Look for respawn/'client ... died' lines around it and which process exited; check load and "
           "memory (sar, dmesg for the OOM killer) and that /var/run/heartbeat exists with its sockets. "
           "A single line during a client's restart needs no action."),
    Family("encoding", "cluster message encoding",
           "A cluster message could not be built, parsed, authenticated or (de)compressed: a malformed or "
           "oversize message, a peer running another heartbeat version, a foreign cluster on the same "
           "port or multicast group, or mismatched compression settings.",
           "Check that every node runs the same heartbeat/cluster-glue versions, that no other cluster shares "
           "udpport/mcast group (tcpdump on the port), and that compression/traditional_compression in "
           "ha.cf agree; keep messages small (large CIB or client messages)."),
    Family("process", "heartbeat's process environment",
           "Heartbeat or a library it runs could not get memory, set signals, track or reap a child, "
           "read the clock, schedule in real time or write a pid file: the node is short of a resource "
           "or something else interferes with the process.",
           "Check memory and the OOM killer (free, dmesg), process and file limits (ulimit in the init "
           "script), clock jumps (ntp/chrony steps), and that /var/run is writable; restart heartbeat "
           "once the node is healthy."),
    Family("plugins", "heartbeat plugin loading",
           "Heartbeat could not load a plugin (a medium, an authentication method, a STONITH or IPC "
           "module): the plugin is missing or built for another version.",
           "Check the plugin directories (/usr/lib*/heartbeat/plugins, /usr/lib*/stonith/plugins) hold the "
           "named plugin from the same build as heartbeat and cluster-glue; reinstall the packages."),
    Family("config", "heartbeat's configuration",
           "Heartbeat rejected a directive of ha.cf or authkeys (or could not build its configuration "
           "from them), and may not have started.",
           "Run hadoctor check (or fix) on the configuration, compare ha.cf and authkeys across nodes, and "
           "correct the directive named in the line; authkeys must be mode 600 owned by root."),
    Family("hb-core", "heartbeat's core",
           "Heartbeat's master control process or its read/write/FIFO children hit an internal failure "
           "(a child died, a write or fork failed, a packet sequence or history check failed): the node "
           "was starved, a medium misbehaved, or heartbeat met a bug.",
           "Look at the lines just before it: which child died and why (dmesg, core files in "
           "/var/lib/heartbeat/cores), memory and load; restart heartbeat on that node, and upgrade to "
           "3.0.6 if it recurs."),
    Family("watchdog", "heartbeat's watchdog",
           "Heartbeat could not open, arm or feed the watchdog device (watchdog in ha.cf) or register with "
           "apphbd: without it a hung node is not reset.",
           "Load the watchdog driver (softdog or the hardware one), check the device named by the watchdog "
           "directive exists and that nothing else holds it open; or remove the directive."),
    Family("dynamic-nodes", "heartbeat's node list",
           "Adding or deleting a node at run time (hb_addnode/hb_delnode, autojoin) failed: the node lists "
           "the nodes exchanged disagree, or a node to delete is still alive.",
           "Compare the node directives of ha.cf and /var/lib/heartbeat/hostcache on every node; delete "
           "only dead nodes, and prefer a static node list (autojoin none) with a coordinated restart."),
    Family("uuid", "node uuid and hostcache",
           "Heartbeat's table of node names and uuids (/var/lib/heartbeat/hostcache, hb_uuid) is "
           "inconsistent: a node was renamed or reinstalled, or a node's uuid file was copied to another.",
           "Check that every node has its own /var/lib/heartbeat/hb_uuid (not a clone's) and that uname -n "
           "matches the node lines; stop heartbeat, remove the stale hostcache entry, start again."),
    Family("resource-manager", "heartbeat's resource manager",
           "Heartbeat's haresources resource manager (hb_resource, ResourceManager, harc) failed to run a "
           "resource script or to complete a takeover/standby step.",
           "Check the resource scripts exist and are executable in /etc/ha.d/resource.d or /etc/init.d, run "
           "the failing one by hand with the same arguments, and read its lines just before."),
    Family("clients", "a respawned client",
           "A client heartbeat respawns (ipfail, dopd) could not talk to heartbeat or to its peer, or met "
           "a configuration it does not support.",
           "Check the respawn and apiauth lines in ha.cf, that the client runs on every node, and its "
           "lines before this one; restart heartbeat if the client keeps exiting."),
    Family("logging", "the logging daemon",
           "ha_logd (use_logd in ha.cf) or a process's connection to it failed: log lines may be lost "
           "until it recovers.",
           "Check ha_logd runs and its logd.cf, that syslog accepts messages, and that the disk holding "
           "the log files is not full; restart logd, or drop use_logd and log directly."),
    Family("lrmd", "lrmd, CRM mode only",
           "lrmd and its resource-agent wrappers run only in CRM (Pacemaker) mode ('crm respawn' or "
           "'pacemaker' in ha.cf): an haresources cluster never uses them.",
           "On an haresources cluster, find why the CRM stack runs at all (crm/pacemaker directive in "
           "ha.cf); in CRM mode, read the resource's operation failure in the pengine/crmd lines."),
    Family("stonith", "a STONITH plugin",
           "The STONITH device named by the plugin (stonith_host in ha.cf) could not be reached, logged in "
           "to, or commanded: the node it should reset is not fenced.",
           "Test the device by hand with stonith -t PLUGIN -p '...' -S (status) and -l (list hosts): check "
           "its address, credentials and plugin parameters, and that the device sees this node's host name."),
    Family("agent-ip", "an IP address agent",
           "IPaddr, IPaddr2, findif, SendArp or send_arp refused the address or could not configure or "
           "announce it: the service address is not up where it should be.",
           "Check the haresources entry (address, netmask, interface): findif must find an interface with "
           "a route to the subnet (ip -o -f inet addr), the address must be unused elsewhere (arping -D), "
           "and send_arp must be installed."),
    Family("agent-fs", "the Filesystem agent",
           "The Filesystem agent refused its arguments or could not check, mount or unmount the file "
           "system: the resources on it do not start or the group cannot be released.",
           "Check the device, mount point and type in haresources, that the device is there (blkid; for DRBD "
           "the node is Primary), run fsck if it asks, and find processes holding it at stop (fuser -vm)."),
    Family("agent-mailto", "the MailTo agent",
           "The MailTo agent could not send its notice: no address given, or no mail command.",
           "Give MailTo::address[::subject] in haresources and install a mail command (mailx)."),
    Family("test-program", "a test program",
           "The message comes from a test program of cluster-glue (ipctest, netstring_test, logtest, ...), "
           "which no running cluster runs.",
           "None.",
           benign="written only by a cluster-glue test program, never by a running cluster"),
)

_BY_CODE: Dict[str, Family] = {f.code: f for f in FAMILIES}

_HB_WATCHDOG = ("hb.wdioc_", "hb.watchdog_", "hb.cannot_open_watchdog", "hb.error_setting_close_exec",
                "hb.unable_register_with_apphbd", "hb.unable_setup_with_apphbd", "hb.apphb_hb_failed")
#: the write and read children of one medium (heartbeat.c's write_child/read_child) failing on it
_HB_MEDIA = ("hb.write_timeout", "hb.messages_discarded_", "hb.write_failure", "hb.temporarily_suppressing_write",
             "hb.exiting_due_persistent_errors", "hb.null_vf_read_returns_row")
_HB_NODES = ("hb.node_already_exists", "hb.adding_node_failed", "hb.nodelist_not_found", "hb.parsing_failed",
             "hb.add_node_failed", "hb.node_not_found_msg", "hb.weight_not_found", "hb.site_not_found",
             "hb.node_not_found_config", "hb.deleting_node", "hb.deletion_failed", "hb.am_being_deleted",
             "hb.null_data_del_node", "hb.get_reqnodes", "hb.get_node_list_del", "hb.constructing_repnodes",
             "hb.get_nodes_from_nodelist", "hb.incoming_node_list", "hb.get_del_nodes")

#: (upstream path, or a directory ending in "/"; message-name prefixes, () for every name; family code);
#: a file's rows are tried before any directory's
MEMBERS: Tuple[Tuple[str, Tuple[str, ...], str], ...] = (
    ("lib/plugins/HBcomm/ping.c", (), "ping-node"),
    ("lib/plugins/HBcomm/ping6.c", (), "ping-node"),
    ("lib/plugins/HBcomm/hbaping.c", (), "ping-node"),
    ("lib/plugins/HBcomm/", (), "medium"),
    ("heartbeat/hb_api.c", (), "client-ipc"),
    ("lib/clplumbing/ipcsocket.c", (), "client-ipc"),
    ("lib/clplumbing/ocf_ipc.c", (), "client-ipc"),
    ("lib/clplumbing/GSource.c", (), "client-ipc"),
    ("lib/clplumbing/cl_msg.c", (), "encoding"),
    ("lib/clplumbing/cl_msg_types.c", (), "encoding"),
    ("lib/clplumbing/cl_netstring.c", (), "encoding"),
    ("lib/clplumbing/cl_compress.c", (), "encoding"),
    ("heartbeat/ha_msg_internal.c", (), "encoding"),
    ("lib/clplumbing/cl_malloc.c", (), "process"),
    ("lib/clplumbing/proctrack.c", (), "process"),
    ("lib/clplumbing/coredumps.c", (), "process"),
    ("lib/clplumbing/cl_signal.c", (), "process"),
    ("heartbeat/hb_signal.c", (), "process"),
    ("lib/clplumbing/cl_poll.c", (), "process"),
    ("lib/clplumbing/realtime.c", (), "process"),
    ("lib/clplumbing/longclock.c", (), "process"),
    ("lib/clplumbing/cl_reboot.c", (), "process"),
    ("lib/clplumbing/cl_pidfile.c", (), "process"),
    ("lib/clplumbing/cl_misc.c", (), "process"),
    ("lib/clplumbing/replytrack.c", (), "process"),
    ("lib/clplumbing/cl_plugin.c", (), "plugins"),
    ("heartbeat/module.c", (), "plugins"),
    ("heartbeat/config.c", (), "config"),
    ("heartbeat/auth.c", (), "config"),
    ("heartbeat/heartbeat.c", _HB_WATCHDOG, "watchdog"),
    ("heartbeat/heartbeat.c", _HB_MEDIA, "medium"),
    ("heartbeat/heartbeat.c", _HB_NODES, "dynamic-nodes"),
    ("heartbeat/heartbeat.c", (), "hb-core"),
    ("heartbeat/hb_rexmit.c", (), "hb-core"),
    ("heartbeat/hb_uuid.c", (), "uuid"),
    ("lib/clplumbing/cl_uuid.c", (), "uuid"),
    ("heartbeat/hb_resource.c", (), "resource-manager"),
    ("heartbeat/lib/ResourceManager.in", (), "resource-manager"),
    ("heartbeat/harc", (), "resource-manager"),
    ("contrib/ipfail/ipfail.c", (), "clients"),
    ("contrib/drbd-outdate-peer/dopd.c", (), "clients"),
    ("logd/ha_logd.c", (), "logging"),
    ("lib/clplumbing/cl_log.c", (), "logging"),
    ("lrm/lrmd/", (), "lrmd"),
    ("lib/plugins/lrm/", (), "lrmd"),
    ("lib/plugins/stonith/", (), "stonith"),
    ("lib/stonith/", (), "stonith"),
    ("heartbeat/IPaddr", (), "agent-ip"),
    ("heartbeat/IPaddr2", (), "agent-ip"),
    ("heartbeat/findif.sh", (), "agent-ip"),
    ("heartbeat/SendArp", (), "agent-ip"),
    ("heartbeat/libnet_util/send_arp.c", (), "agent-ip"),
    ("heartbeat/Filesystem", (), "agent-fs"),
    ("heartbeat/MailTo", (), "agent-mailto"),
    ("lib/clplumbing/ipctest.c", (), "test-program"),
    ("lib/clplumbing/ipctransientclient.c", (), "test-program"),
    ("lib/clplumbing/ipctransientserver.c", (), "test-program"),
    ("lib/clplumbing/ipctransientlib.c", (), "test-program"),
    ("lib/clplumbing/netstring_test.c", (), "test-program"),
    ("lib/clplumbing/base64_md5_test.c", (), "test-program"),
    ("logd/logtest.c", (), "test-program"),
)


def by_code(code: str) -> Family:
    return _BY_CODE[code]


_EXACT: Dict[str, list] = {}
_DIRS: list = []
for _where, _prefixes, _code in MEMBERS:
    if _where.endswith("/"):
        _DIRS.append((_where, _prefixes, _code))
    else:
        _EXACT.setdefault(_where, []).append((_prefixes, _code))


def of_source(source: str, name: str) -> Optional[Family]:
    """The family of a message of these upstream sources (its first one counts), or None. A file's own
    rows come before its directory's (first match wins within each)."""
    path = source.split(",", 1)[0].partition(":")[2].strip()
    for prefixes, code in _EXACT.get(path, ()):
        if not prefixes or name.startswith(prefixes):
            return _BY_CODE[code]
    for where, prefixes, code in _DIRS:
        if path.startswith(where) and (not prefixes or name.startswith(prefixes)):
            return _BY_CODE[code]
    return None


def file_name(source: str) -> str:
    """The file names of a message's upstream sources, for a finding's text (two at most).

    >>> file_name("heartbeat-3.0.6:heartbeat/hb_api.c, heartbeat-2.1:heartbeat/hb_api.c")
    'hb_api.c'
    >>> file_name("glue-1.0.12:lib/plugins/stonith/rhcs.c, glue-1.0.12:lib/plugins/stonith/external.c")
    'rhcs.c/external.c'
    """
    names = list(dict.fromkeys(part.partition(":")[2].strip().rsplit("/", 1)[-1] for part in source.split(",")))
    return "/".join(names[:2]) + ("/…" if len(names) > 2 else "")
