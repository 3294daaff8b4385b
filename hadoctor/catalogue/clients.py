"""Messages of heartbeat's API clients that haresources clusters run from ``respawn`` lines (crm off):
ipfail (failover when this node sees fewer ping nodes than its peer) and dopd (DRBD's outdate-peer
daemon: DRBD asks it, through heartbeat, to mark the peer's data Outdated).

Both log through cl_log with their program name as the tag (dopd: the path it was started by);
the API-client errors (``api.*``) are the same strings in both and in glue's netstring_test.c. Samples are in
heartbeat 3.0.x's syslog layout.
"""

from __future__ import annotations

from hadoctor.catalogue import M


def both(path: str) -> str:
    return f"heartbeat-3.0.6:{path}, heartbeat-2.1:{path}"


IPF = both("contrib/ipfail/ipfail.c")
DOPD = both("contrib/drbd-outdate-peer/dopd.c")
API = f"{IPF}, {DOPD}, glue-1.0.12:lib/clplumbing/netstring_test.c"
I = "Nov 25 09:19:07 node01 ipfail: [2260]: "
D = "Nov 25 09:19:07 node01 /usr/lib/heartbeat/dopd: [2261]: "

MESSAGES = (
    # --- ipfail: why it cannot run (it exits; heartbeat respawns it)
    M("ipfail.no_managed_resources", "error", IPF, r"No managed resources",
      I + "ERROR: No managed resources", rule="LOG039",
      note="heartbeat does no resource management (crm/pacemaker on): ipfail has nothing to give up"),
    M("ipfail.legacy_failback", "error", IPF, r"auto_failback set to incompatible legacy option\.",
      I + "ERROR: auto_failback set to incompatible legacy option.", rule="LOG039"),
    M("ipfail.bad_failback", "error", IPF, r"invalid auto_faiback value\((?P<value>[^)]*)\)",
      I + "ERROR:  invalid auto_faiback value(maybe)", rule="LOG039", note="sic: 'faiback' upstream"),
    M("ipfail.no_failback_setting", "error", IPF, r"Couldn't get auto_failback setting\.",
      I + "ERROR: Couldn't get auto_failback setting."),
    M("api.cannot_sign_on", "error", API, r"Cannot sign on with heartbeat",
      I + "ERROR: Cannot sign on with heartbeat", rule="LOG039",
      note="heartbeat refused the client: no apiauth line for it, or its uid/gid not allowed by it"),
    M("api.reason", "error", API, r"REASON: (?P<reason>.*)",
      I + "ERROR: REASON: hb_api_signon: Can't initiate connection to heartbeat",
      note="follows the client's error line and gives heartbeat's answer"),
    M("api.cannot_get_nodeid", "error", API, r"Cannot get my nodeid", I + "ERROR: Cannot get my nodeid"),
    M("api.cannot_set_filter_mode", "error", API, r"Cannot set filter mode", I + "ERROR: Cannot set filter mode"),
    M("api.cannot_set_message_signal", "error", API, r"Cannot set message signal",
      I + "ERROR: Cannot set message signal"),
    M("api.cannot_set_callback", "error", API,
      r"Cannot set (?P<what>msg_ipfail_join|msg_resources|msg|msg_abort_giveup|i_am_dead|node status|if status"
      r"|msg_start_outdate|msg_outdate_rc) callback",
      I + "ERROR: Cannot set if status callback"),
    M("api.node_walk", "error", API, r"Cannot (?P<what>start|end) node walk", I + "ERROR: Cannot start node walk",
      note="dopd logs it at WARN (start) or info (end)"),
    M("api.cannot_sign_off", "error", API, r"Cannot sign off from heartbeat\.",
      I + "ERROR: Cannot sign off from heartbeat."),
    M("api.cannot_delete", "error", API, r"Cannot delete API object\.", I + "ERROR: Cannot delete API object."),
    M("api.read_failed", "error", API, r"read_hb_msg returned NULL",
      I + "ERROR: read_hb_msg returned NULL: Connection reset by peer",
      note="heartbeat went away under ipfail (stopped or died)"),
    M("ipfail.no_memory", "error", IPF, r"Out of memory, can't giveup\.", I + "ERROR: Out of memory, can't giveup."),
    # --- ipfail at work
    M("ipfail.node_status", "info", IPF, r"Status update: Node (?P<node>\S+) now has status (?P<status>\S+)",
      I + "info: Status update: Node node02 now has status dead"),
    M("ipfail.link_status", "info", IPF,
      r"Link Status update: Link (?P<node>[^/\s]+)/(?P<iface>\S+) now has status (?P<status>\S+)",
      I + "info: Link Status update: Link node02/eth1 now has status dead"),
    M("ipfail.we_are_dead", "info", IPF, r"We are dead\. :<", I + "info: NS: We are dead. :<",
      note="a node or link died and this node sees no ping node: it is the one cut off"),
    M("ipfail.still_alive", "info", IPF, r"NS: We are still alive!", I + "info: NS: We are still alive!"),
    M("ipfail.ping_node_up", "info", IPF, r"A ping node just came up\.", I + "info: A ping node just came up."),
    M("ipfail.checking_remote", "info", IPF, r"Checking remote count of ping nodes\.",
      I + "info: Checking remote count of ping nodes."),
    M("ipfail.asking", "info", IPF, r"Asking other side for ping node count\.",
      I + "info: Asking other side for ping node count."),
    M("ipfail.more_ping", "info", IPF, r"Telling other node that we have more visible ping nodes\.",
      I + "info: Telling other node that we have more visible ping nodes.", rule="LOG038",
      note="logged by the node that keeps (or takes) the resources"),
    M("ipfail.less_ping", "info", IPF, r"Giving up because we have less visible ping nodes\.",
      I + "info: Giving up because we have less visible ping nodes.", rule="LOG038"),
    M("ipfail.told_less_ping", "info", IPF, r"Giving up because we were told that we have less ping nodes\.",
      I + "info: Giving up because we were told that we have less ping nodes.", rule="LOG038"),
    M("ipfail.balanced", "info", IPF, r"Ping node count is balanced\.", I + "info: Ping node count is balanced."),
    M("ipfail.giveup_foreign", "info", IPF, r"Giving up foreign resources \(auto_failback\)\.",
      I + "info: Giving up foreign resources (auto_failback)."),
    M("ipfail.delayed_giveup", "info", IPF, r"Delayed giveup in (?P<seconds>-?\d+) seconds\.",
      I + "info: Delayed giveup in 4 seconds."),
    M("ipfail.giveup_called", "info", IPF, r"giveup\(\) called \(timeout worked\)",
      I + "info: giveup() called (timeout worked)", rule="LOG038",
      note="the delayed giveup ran: ipfail asked heartbeat to give the resources up"),
    M("ipfail.aborted_giveup", "info", IPF, r"Aborted delayed giveup \((?P<tag>\d+)\)",
      I + "info: Aborted delayed giveup (37)"),
    M("ipfail.no_giveup_timer", "info", IPF, r"No giveup timer to abort\.", I + "info: No giveup timer to abort."),
    # --- dopd
    M("dopd.peer_is_me", "warn", DOPD, r"drbd peer node (?P<peer>\S+) is me!",
      D + "WARN: drbd peer node node01 is me!", rule="LOG039"),
    M("dopd.peer_not_found", "warn", DOPD, r"drbd peer (?P<peer>\S+) was not found",
      D + "WARN: drbd peer node02.example.com was not found", rule="LOG039"),
    M("dopd.peer_not_normal", "warn", DOPD,
      r"Cluster node: (?P<node>\S+): status: (?P<status>\S+) is not a normal node",
      D + "WARN: Cluster node: 10.250.0.1: status: ping is not a normal node", rule="LOG039"),
    M("dopd.peer_dead", "warn", DOPD, r"Cluster node: (?P<node>\S+): status: (?P<status>dead)$",
      D + "WARN: Cluster node: node02: status: dead",
      benign="DRBD asked dopd to outdate a peer heartbeat already holds dead; DRBD is told the peer is unreachable, "
             "and the peer's death is what the node-death rules report"),
    M("dopd.sending_outdate", "info", DOPD,
      r"sending start_outdate message to the other node (?P<node>\S+) -> (?P<peer>\S+)",
      D + "info: sending start_outdate message to the other node node01 -> node02"),
    M("dopd.sending_rc", "info", DOPD, r"sending return code: (?P<rc>\d+), (?P<node>\S+) -> (?P<peer>\S+)",
      D + "info: sending return code: 4, node02 -> node01",
      note="4 outdated, 3 inconsistent anyway, 6 peer is Primary (cannot be outdated), 20 failed"),
    M("dopd.unknown_exit", "info", DOPD, r"unknown exit code from (?P<command>.*): (?P<rc>-?\d+)$",
      D + "info: unknown exit code from /sbin/drbdadm outdate r0: 10"),
    M("dopd.killed", "info", DOPD, r"killed by signal (?P<signal>\d+): (?P<command>.*)",
      D + "info: killed by signal 9: /sbin/drbdadm outdate r0"),
    M("dopd.strange_status", "info", DOPD, r"strange status code from (?P<command>.*): 0x[0-9a-f]+",
      D + "info: strange status code from /sbin/drbdadm outdate r0: 0x7f"),
    M("dopd.cannot_send_client", "error", DOPD, r"Could not send message to the client",
      D + "ERROR: Could not send message to the client"),
    M("dopd.channel_null", "error", DOPD, r"Channel was NULL", D + "ERROR: Channel was NULL"),
    M("dopd.channel_disconnected", "error", DOPD, r"Channel was disconnected", D + "ERROR: Channel was disconnected"),
    M("dopd.ipc_server", "error", DOPD, r"Could not start IPC server", D + "ERROR: Could not start IPC server"),
    M("dopd.wait_channel", "error", DOPD, r"Can't create wait channel of type (?P<type>\S+)",
      D + "ERROR: Can't create wait channel of type uds: Permission denied"),
)
