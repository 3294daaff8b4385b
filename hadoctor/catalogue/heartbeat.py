"""The heartbeat daemon's messages (3.0.6 and 2.1.x): ``heartbeat/*.c``, the HBcomm media and HBauth plugins.

Samples are daemon lines as a 3.0.x node logs them (the level word after ``[pid]:``); 2.1.x writes the same
messages in the ``tag-date`` layout (:mod:`hadoctor.parsers.hblog`).
"""

from __future__ import annotations

from hadoctor.catalogue import M


def both(path: str) -> str:
    """A file that writes the message in 3.0.6 and in 2.1.x."""
    return f"heartbeat-3.0.6:{path}, heartbeat-2.1:{path}"


HB = both("heartbeat/heartbeat.c")
CONFIG = both("heartbeat/config.c")
AUTH = both("heartbeat/auth.c")
RSC = both("heartbeat/hb_resource.c")
SIGNAL = both("heartbeat/hb_signal.c")
L = "Nov 25 09:19:07 node01 heartbeat: [11]: "          # a daemon line's head

MESSAGES = (
    # --- start, stop, restart --------------------------------------------------------------------
    M("hb.start", "info", CONFIG, r"Configuration validated\. Starting heartbeat ?(?P<version>\S*)",
      L + "info: Configuration validated. Starting heartbeat 3.0.6"),
    M("hb.config_error", "error", HB, r"Configuration error, heartbeat not started",
      L + "ERROR: Configuration error, heartbeat not started.", rule="LOG040"),
    M("hb.parse_refused", "error", CONFIG, r"Heartbeat not started: configuration error",
      L + "ERROR: Heartbeat not started: configuration error.", rule="LOG040"),
    M("hb.shutdown_in_progress", "info", RSC, r"Heartbeat shutdown in progress",
      L + "info: Heartbeat shutdown in progress. (11)"),
    M("hb.shutdown_complete", "info", HB, r"(?:^|\s)Heartbeat shutdown complete",
      L + "info: node02 Heartbeat shutdown complete."),
    M("hb.shutdown_notice", "info", RSC, r"Received shutdown notice from '(?P<node>[^']+)'",
      L + "info: Received shutdown notice from 'node02'."),
    M("hb.peer_restart", "info", HB, r"Heartbeat restart on node (?P<node>\S+)",
      L + "info: Heartbeat restart on node node01",
      note="the peer restarted (a higher generation number): it was not declared dead"),
    M("hb.restart_triggered", "info", HB, r"Heartbeat restart triggered",
      L + "info: Heartbeat restart triggered."),
    M("hb.restart_exec", "info", HB, r"Performing heartbeat restart exec",
      L + "info: Performing heartbeat restart exec.",
      note="this node re-executes itself: a SIGHUP after ha.cf changed, or the end of a healed partition"),
    M("hb.reread_auth", "info", SIGNAL, r"Rereading authentication file",
      L + "info: Rereading authentication file."),
    M("hb.config_unchanged", "info", SIGNAL, r"Configuration unchanged",
      L + "info: Configuration unchanged."),
    M("hb.local_status", "info", HB, r"Local status now set to: '(?P<status>[^']+)'",
      L + "info: Local status now set to: 'up'"),
    M("hb.emergency", "crit", HB, r"Emergency Shutdown(?P<detail>.*)",
      L + "CRIT: Emergency Shutdown: Master Control process died.", rule="LOG030"),
    M("hb.respawn", "error", HB, r"Respawning client \"(?P<client>[^\"]+)\"",
      L + "ERROR: Respawning client \"/usr/lib/heartbeat/ipfail\":", rule="LOG031"),
    M("hb.respawn_too_fast", "error", HB, r"Client (?P<client>\S+) \"respawning too fast\"",
      L + "ERROR: Client /usr/lib/heartbeat/ipfail \"respawning too fast\"", rule="LOG031"),

    # --- membership and links --------------------------------------------------------------------
    M("hb.node_dead", "warn", HB, r"node (?P<node>\S+): is dead",
      L + "WARN: node node02: is dead", rule="LOG011"),
    M("hb.status_update", "info", HB, r"Status update for node (?P<node>\S+): status (?P<status>\S+)",
      L + "info: Status update for node node02: status up"),
    M("hb.link_status", "info", HB, r"Link (?P<node>[^:\s]+):(?P<iface>\S+) (?P<status>up|dead)\.",
      L + "info: Link node02:eth1 dead.", rule="LOG036",
      note="a medium's path to a node (node:interface) came up or died; logged on every change"),
    M("hb.late_heartbeat", "warn", HB, r"Late heartbeat: Node (?P<node>\S+): interval (?P<ms>\d+) ms",
      L + "WARN: Late heartbeat: Node node01: interval 7000 ms", rule="LOG012",
      note="WARN past warntime, CRIT past deadtime"),
    M("hb.partition_return", "crit", HB, r"Cluster node (?P<node>\S+) returning after partition",
      L + "CRIT: Cluster node node01 returning after partition.", rule="LOG010"),
    M("hb.deadtime_small", "warn", HB, r"Deadtime value may be too small",
      L + "WARN: Deadtime value may be too small.", rule="LOG010",
      note="always logged right after 'returning after partition'"),
    M("hb.hist_queue", "error", HB, r"Message hist queue is filling up \((?P<n>\d+) messages in queue\)",
      L + "ERROR: Message hist queue is filling up (500 messages in queue)", rule="LOG013",
      note="WARN at first, ERROR when the queue is nearly full"),
    M("hb.lost_packets", "warn", HB, r"(?P<n>\d+) lost packet\(s\) for \[(?P<node>[^\]]+)\]",
      L + "WARN: 1 lost packet(s) for [node01] [12:14]", rule="LOG033"),
    M("hb.lost_a_lot", "error", HB, r"lost a lot of packets", L + "ERROR: lost a lot of packets!", rule="LOG033"),
    M("hb.irretrievably_lost", "error", both("heartbeat/hb_rexmit.c"), r"Irretrievably lost packet",
      L + "ERROR: Irretrievably lost packet: node node02: seq 1234", rule="LOG033"),
    M("hb.no_previous_generation", "warn", HB, r"No Previous generation - starting at \d+",
      L + "WARN: No Previous generation - starting at 1795598348",
      benign="first start on this node (no generation file yet)"),

    # --- resources (the daemon's side) -----------------------------------------------------------
    M("hb.both_own", "error", RSC, r"Both machines own (?P<which>our|foreign) resources",
      L + "ERROR: Both machines own our resources!", rule="LOG010"),
    M("hb.resources_from", "info", RSC, r"Resources being acquired from (?P<node>\S+?)\.?$",
      L + "info: Resources being acquired from node02."),
    M("hb.release_all", "info", RSC, r"Giving up all HA resources", L + "info: Giving up all HA resources."),
    M("hb.relinquished", "info", RSC, r"All HA resources relinquished", L + "info: All HA resources relinquished."),
    M("hb.wants_standby", "info", RSC, r"(?P<node>\S+) wants to go standby(?: \[(?P<which>\w+)\])?",
      L + "info: node02 wants to go standby [foreign]"),
    M("hb.standby_step", "info", RSC, r"standby: (?P<step>.+)", L + "info: standby: acquire [foreign] resources from node02"),
    M("hb.standby_action", "info", RSC, r"(?P<action>(?:give up|acquire) \w+ HA resources) \(standby\)",
      L + "info: give up foreign HA resources (standby)."),
    M("hb.standby_done", "info", RSC, r"Standby resource acquisition done.*",
      L + "info: Standby resource acquisition done [foreign]."),
    M("hb.standby_other_done", "info", RSC, r"Other node completed standby.*",
      L + "info: Other node completed standby takeover of foreign resources."),
    M("hb.no_stonith", "warn", RSC, r"No STONITH device configured",
      L + "WARN: No STONITH device configured.", benign="R1 clusters normally run without STONITH (CFG rules judge it)"),
    M("hb.shared_disks", "warn", RSC, r"Shared disks are not protected",
      L + "WARN: Shared disks are not protected.", benign="follows 'No STONITH device configured' at every takeover"),
    M("hb.stop_failure_reboot", "crit", both("heartbeat/lib/ResourceManager.in"),
      r"Resource STOP failure\. Reboot required", "2026/11/25_09:19:30  ResourceManager(default)[412]:    "
      "CRIT: Resource STOP failure. Reboot required!", rule="LOG030"),
    M("hb.kill_ungracefully", "crit", both("heartbeat/lib/ResourceManager.in"), r"Killing heartbeat ungracefully",
      "2026/11/25_09:19:30  ResourceManager(default)[412]:    CRIT: Killing heartbeat ungracefully!", rule="LOG030"),

    # --- authentication --------------------------------------------------------------------------
    M("hb.auth_invalid_index", "error", both("heartbeat/ha_msg_internal.c") + ", glue-1.0.12:lib/clplumbing/cl_netstring.c",
      r"Invalid authentication(?: type)? \[(?P<index>\d+)\] in message",
      L + "ERROR: Invalid authentication type [3] in message!", rule="LOG020",
      note="heartbeat's own check says 'type', glue's netstring check does not"),
    M("hb.bad_node", "error", HB, r"bad node \[(?P<src>[^\]]+)\] in message",
      L + "ERROR: process_status_message: bad node [web02] in message", rule="LOG020"),
    M("hb.packet_failed_auth", "info", both("heartbeat/ha_msg_internal.c"), r"Packet failed authentication check",
      L + "info: Packet failed authentication check, pkt=[...]"),
    M("hb.bad_auth_token", "warn", both("heartbeat/ha_msg_internal.c"), r"Bad/invalid auth token",
      L + "WARN: Bad/invalid auth token, authtoken=0x55d1c0", rule="LOG021"),

    # --- configuration refused at start ----------------------------------------------------------
    M("hb.node_not_in_config", "error", CONFIG, r"Current node \[(?P<node>[^\]]+)\] not in configuration",
      "Nov 25 09:19:07 node01.lab.example heartbeat: [10]: ERROR: Current node [node01.lab.example] not in "
      "configuration!", rule="LOG041"),
    M("hb.bad_haresources_node", "error", CONFIG, r"Bad nodename in \S+ \[(?P<node>[^\]]+)\]",
      L + "ERROR: Bad nodename in /etc/ha.d//haresources [node03]", rule="LOG042"),
    M("hb.keyfile_open", "error", AUTH, r"Cannot open keyfile", L + "ERROR: Cannot open keyfile [/etc/ha.d//authkeys].  Stop.",
      rule="LOG043"),
    M("hb.keyfile_perms", "error", AUTH, r"Bad permissions on keyfile",
      L + "ERROR: Bad permissions on keyfile [/etc/ha.d//authkeys], 600 recommended.", rule="LOG043"),
    M("hb.auth_bad_line", "error", AUTH, r"Invalid auth line", L + "ERROR: Invalid auth line [auth] in /etc/ha.d//authkeys",
      rule="LOG043"),
    M("hb.auth_bad_num", "error", AUTH, r"Invalid authnum \[", L + "ERROR: Invalid authnum [16] in /etc/ha.d//authkeys",
      rule="LOG043"),
    M("hb.auth_bad_type", "error", AUTH, r"Invalid authtype \[", L + "ERROR: Invalid authtype [sha256]", rule="LOG043"),
    M("hb.auth_needs_key", "error", AUTH, r"Auth method \[\S+\] requires a key",
      L + "ERROR: Auth method [sha1] requires a key", rule="LOG043"),
    M("hb.auth_crc_key", "info", AUTH, r"Auth method \[crc\] doesn't use a key",
      L + "info: Auth method [crc] doesn't use a key", rule="LOG043"),
    M("hb.auth_line_invalid", "error", AUTH, r"Auth line \[", L + "ERROR: Auth line [1 sha1] is invalid.", rule="LOG043"),
    M("hb.auth_missing_directive", "error", AUTH, r"Missing auth directive",
      L + "ERROR: Missing auth directive in keyfile [/etc/ha.d//authkeys]", rule="LOG043"),
    M("hb.auth_key_not_found", "error", AUTH, r"Auth Key \[\d+\] not found",
      L + "ERROR: Auth Key [2] not found in keyfile [/etc/ha.d//authkeys]", rule="LOG043"),
    M("hb.auth_reparse", "error", HB, r"Authentication reparsing error",
      L + "ERROR: Authentication reparsing error, exiting.", rule="LOG043"),
    M("hb.auth_config_error", "error", CONFIG, r"Authentication configuration error",
      L + "ERROR: Authentication configuration error.", rule="LOG043"),
    M("hb.deadtime_vs_keepalive", "error", CONFIG,
      r"Dead time \[(?P<dead>\d+)\] is too small compared to keeplive \[(?P<keepalive>\d+)\]",
      L + "ERROR: Dead time [4000] is too small compared to keeplive [2000]", rule="LOG044"),
    M("hb.initdead_vs_deadtime", "error", CONFIG,
      r"Initial dead time \[(?P<init>\d+)\] is smaller than deadtime \[(?P<dead2>\d+)\]",
      L + "ERROR: Initial dead time [5000] is smaller than deadtime [10000]", rule="LOG044"),
    M("hb.deadping_vs_keepalive", "error", CONFIG, r"Ping dead time \[\d+\] is too small compared to keeplive",
      L + "ERROR: Ping dead time [1000] is too small compared to keeplive [1000]", rule="LOG044"),
    M("hb.illegal_directive", "error", CONFIG, r"Illegal directive \[(?P<directive>[^\]]*)\]",
      L + "ERROR: Illegal directive [ucast] in /etc/ha.d//ha.cf", rule="LOG045"),
    M("hb.bad_client_cmd", "error", CONFIG, r"Client child command \[(?P<cmd>[^\]]+)\] is not (?:executable|full pathname)",
      L + "ERROR: Client child command [/usr/lib/heartbeat/ipfail] is not executable", rule="LOG031"),
    M("hb.bad_client_uid", "error", CONFIG, r"Invalid uid \[(?P<uid>[^\]]+)\] specified for client child",
      L + "ERROR: Invalid uid [hacluster] specified for client child", rule="LOG031"),
    M("hb.invalid_user", "error", CONFIG + ", glue-1.0.12:lib/clplumbing/ocf_ipc.c", r"Invalid user name \[(?P<user>[^\]]+)\]",
      L + "ERROR: Invalid user name [hacluster]", rule="LOG051"),

    # --- media (HBcomm) --------------------------------------------------------------------------
    M("hb.media_illegal", "error", CONFIG, r"Illegal (?P<kind>\S+) \[[^\]]*\] in config file \[(?P<arg>[^\]]*)\]",
      L + "ERROR: Illegal ucast [UDP/IP unicast] in config file [eth9 10.0.0.2]", rule="LOG035"),
    M("hb.media_cannot_open", "error", HB, r"cannot open (?P<medium>[a-z][a-z0-9]* [^\s:]+)(?:$|\s)",
      L + "ERROR: heartbeat: cannot open ucast eth1", rule="LOG035"),
    M("hb.no_comm_channels", "crit", HB, r"No working comm channels to write to",
      L + "CRIT: write_child: No working comm channels to write to.", rule="LOG035"),
    M("hb.cable_unplugged", "warn", HB, r"Is a cable unplugged on (?P<medium>\S+ \S+?)\?",
      L + "WARN: Is a cable unplugged on ucast eth1?", rule="LOG035"),
    M("hb.send_hbcomm", "error", HB, r"Unable to send HBcomm packet",
      L + "ERROR: Unable to send HBcomm packet bcast eth1 10.0.0.255:694 - No such device", rule="LOG035"),
    M("hb.media_no_iface", "crit", both("lib/plugins/HBcomm/bcast.c") + ", " + both("lib/plugins/HBcomm/ucast.c"),
      r"(?:ucast: )?(?:IP )?interface \[(?P<iface>[^\]]+)\] does not exist",
      L + "CRIT: IP interface [eth9] does not exist", rule="LOG035"),
    M("hb.media_bindtodevice", "crit", both("lib/plugins/HBcomm/ucast.c") + ", " + both("lib/plugins/HBcomm/bcast.c"),
      r"[Ee]rror setting (?:socket )?option SO_BINDTODEVICE(?:\([rw]\))? on (?P<iface2>[^\s:]+): (?P<reason>.*)",
      L + "CRIT: ucast: error setting option SO_BINDTODEVICE(r) on eth9: No such device", rule="LOG035"),
    M("hb.media_bind", "crit", both("lib/plugins/HBcomm/ucast.c") + ", " + both("lib/plugins/HBcomm/bcast.c")
      + ", " + both("lib/plugins/HBcomm/mcast.c"),
      r"(?:ucast: )?[Uu]nable to bind socket(?: \((?P<bport>[^)]*)\))?\. Giving up(?:: (?P<reason>.*))?",
      L + "CRIT: ucast: unable to bind socket. Giving up: Address already in use", rule="LOG037"),
    M("hb.media_reuseport", "crit", "heartbeat-3.0.6:lib/plugins/HBcomm/ucast.c",
      r"ucast: error setting option SO_REUSEPORT(?:\([rw]\))?: (?P<reason>.*)",
      L + "CRIT: ucast: error setting option SO_REUSEPORT(w): Protocol not available", rule="LOG037",
      note="3.0.5/3.0.6 on kernels before 3.9 (fixed upstream after 3.0.6)"),
    M("hb.serial_open", "crit", both("lib/plugins/HBcomm/serial.c"), r"cannot open (?P<tty>/dev/\S+): (?P<reason>.*)",
      L + "CRIT: cannot open /dev/ttyS1: No such file or directory", rule="LOG037"),

    # --- scheduling, memory, logging set-up ------------------------------------------------------
    M("hb.logd_disabled", "warn", CONFIG, r"Logging daemon is disabled",
      L + "WARN: Logging daemon is disabled --enabling logging daemon is recommended",
      benign="a recommendation logged at every start without logd"),
    M("hb.initdead_small", "warn", CONFIG, r"Initial dead time \[\d+ ms\] may be too small",
      L + "WARN: Initial dead time [10000 ms] may be too small!", benign="advice; CFG rules judge initdead"),
)
