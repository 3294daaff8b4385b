"""cluster-glue 1.0.12's messages (libplumb, ha_logd, lrmd) as heartbeat's processes log them.

libplumb runs inside heartbeat, so its lines carry heartbeat's tag.
"""

from __future__ import annotations

from hadoctor.catalogue import M

NS = "glue-1.0.12:lib/clplumbing/cl_netstring.c"
MSG = "glue-1.0.12:lib/clplumbing/cl_msg.c"
GS = "glue-1.0.12:lib/clplumbing/GSource.c"
RT = "glue-1.0.12:lib/clplumbing/realtime.c"
CD = "glue-1.0.12:lib/clplumbing/coredumps.c"
L = "Nov 25 09:19:08 node01 heartbeat: [11]: "

MESSAGES = (
    M("glue.netstring_auth_failed", "error", NS, r"netstring authentication failed",
      L + "ERROR: netstring authentication failed, s=###", rule="LOG021"),
    M("glue.authtoken_mismatch", "error", NS, r"authtoken does not match",
      L + "ERROR: authtoken does not match, authtoken=67478f2015963b33b97070512956b054c6a70cc5, "
      "authstr=5924cd8160008f124b1e98ed80a45679b5dd1617", rule="LOG021"),
    M("glue.failed_auth", "warn", MSG, r"node \[(?P<src>[^\]]+)\] failed authentication",
      L + "WARN: string2msg_ll: node [node02] failed authentication", rule="LOG021"),
    M("glue.msg_dump_src", "error", "glue-1.0.12:lib/clplumbing/cl_msg.c", r"MSG\[\d+\] : \[src=(?P<src>[^\]]+)\]",
      L + "ERROR: MSG[2] : [src=node02]", rule="LOG020",
      note="one field of a rejected message's dump: who sent it"),
    M("glue.msg_dump_field", "error", "glue-1.0.12:lib/clplumbing/cl_msg.c", r"MSG\[\d+\] : \[",
      L + "ERROR: MSG[0] : [t=status]",
      benign="a field of a rejected message's dump; the rejection line before it is what rules read"),
    M("glue.msg_dump_head", "error", "glue-1.0.12:lib/clplumbing/cl_msg.c", r"MSG: Dumping message with \d+ fields",
      L + "ERROR: MSG: Dumping message with 12 fields",
      benign="starts the dump of a rejected message; the rejection line before it is what rules read"),
    M("glue.dispatch_delayed", "warn", GS,
      r"Dispatch function for (?P<what>.+?) was delayed (?P<ms>\d+) ms",
      "Nov 25 09:19:09 node02 heartbeat: [11]: WARN: G_CH_dispatch_int: Dispatch function for read child was "
      "delayed 1290 ms (> 250 ms) before being called (GSource: 0x5648855607e0)", rule="LOG032",
      note="stalls under 500 ms are routine and not reported"),
    M("glue.dispatch_too_long", "warn", GS,
      r"Dispatch function for (?P<what>.+?) took too long to execute: (?P<ms>\d+) ms",
      "Nov 25 09:19:08 node01 heartbeat: [11]: WARN: G_CH_dispatch_int: Dispatch function for read child took "
      "too long to execute: 740 ms (> 50 ms) (GSource: 0x55bf597987e0)", rule="LOG032"),
    M("glue.nv_failure", "error", MSG, r"NV failure \(msgfromsteam\)",
      "Feb 6 15:56:15 sp1 heartbeat: [8910]: ERROR: NV failure (msgfromsteam): [>>>#012]", rule="LOG052"),
    M("glue.nv_no_equals", "warn", MSG, r"ha_msg_add_nv_depth: line doesn't contain '='",
      "Feb 6 15:56:15 sp1 heartbeat: [8910]: WARN: ha_msg_add_nv_depth: line doesn't contain '='", rule="LOG052"),
    M("glue.mlock_limits", "error", RT, r"Cannot lock ourselves into memory",
      L + "ERROR: Cannot lock ourselves into memory:  System limits on locked-in memory are too small.",
      rule="LOG034"),
    M("glue.mlock_pid", "error", RT, r"Unable to lock pid \d+ in memory",
      L + "ERROR: Unable to lock pid 11 in memory: Cannot allocate memory", rule="LOG034"),
    M("glue.sched_params", "error", RT, r"Unable to set scheduler parameters",
      L + "ERROR: Unable to set scheduler parameters.: Operation not permitted", rule="LOG034"),
    M("glue.invalid_group", "error", "glue-1.0.12:lib/clplumbing/ocf_ipc.c", r"Invalid group name \[(?P<group>[^\]]+)\]",
      "Feb 08 02:59:36 master2 heartbeat: [39893]: ERROR: Invalid group name [haclient]", rule="LOG051"),
    M("glue.core_lost", "warn", CD, r"Core dumps could be lost if multiple dumps occur",
      L + "WARN: Core dumps could be lost if multiple dumps occur.", benign="core-dump advice logged at every start"),
    M("glue.core_pattern", "warn", CD, r"Consider setting non-default value in /proc/sys/kernel/core_pattern",
      L + "WARN: Consider setting non-default value in /proc/sys/kernel/core_pattern (or equivalent) for maximum "
      "supportability", benign="core-dump advice logged at every start"),
    M("glue.core_uses_pid", "warn", CD, r"Consider setting /proc/sys/kernel/core_uses_pid",
      L + "WARN: Consider setting /proc/sys/kernel/core_uses_pid (or equivalent) to 1 for maximum supportability",
      benign="core-dump advice logged at every start"),
)
