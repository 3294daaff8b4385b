"""Messages of heartbeat's shell scripts: ResourceManager, mach_down, req_resource, hb_standby, harc.

They log through ``ha_log`` (the level is the first word of the text); samples are in the ``date-tag``
layout of resource-agents 4.x's ``ha_log`` (3.9 writes ``tag-date``, same messages).
"""

from __future__ import annotations

from hadoctor.catalogue import M


def both(path: str) -> str:
    return f"heartbeat-3.0.6:{path}, heartbeat-2.1:{path}"


RM = both("heartbeat/lib/ResourceManager.in")
MD = both("heartbeat/lib/mach_down.in")
R = "2026/11/25_09:19:22  ResourceManager(default)[148]:    "
D = "2026/11/25_09:19:18  mach_down(default)[50]:    "

MESSAGES = (
    M("rm.acquire", "info", RM, r"Acquiring resource group: (?P<owner>\S+) (?P<group>(?P<first>\S+).*)",
      R + "info: Acquiring resource group: node01 IPaddr::10.250.13.100/24/eth0 apache"),
    M("rm.release", "info", RM, r"Releasing resource group: (?P<owner>\S+) (?P<group>(?P<first>\S+).*)",
      R + "info: Releasing resource group: node01 IPaddr::10.250.2.100/24/eth0"),
    M("rm.running", "info", RM, r"Running (?P<script>\S+) +(?:(?P<args>.*) )?(?P<op>start|stop|status)$",
      R + "info: Running /etc/ha.d/resource.d/IPaddr 10.250.13.100/24/eth0 start",
      note="the operation each resource script is run with; the next 'Return code' is its result"),
    M("rm.giving_up", "crit", RM, r"Giving up resources due to failure of (?P<rsc>\S+)",
      R + "CRIT: Giving up resources due to failure of 10.250.254.100", rule="LOG002"),
    M("rm.return_code", "error", RM, r"Return code (?P<rc>\d+) from (?P<script>\S+)",
      R + "ERROR: Return code 1 from /etc/ha.d//resource.d/IPaddr", rule="LOG002"),
    M("rm.missing_script", "error", RM, r"Cannot locate resource script (?P<script>\S+)",
      R + "ERROR: Cannot locate resource script mysql", rule="LOG004"),
    M("rm.active_at_start", "crit", RM, r"Resource (?P<rsc>\S+) is active, and should not be!",
      R + "CRITICAL: Resource 10.250.13.100 is active, and should not be!", rule="LOG003"),
    M("rm.non_idle", "crit", RM, r"Non-idle resources (?:can|will|may) affect",
      R + "CRITICAL: Non-idle resources can affect data integrity!", rule="LOG003"),
    M("rm.stop_retry", "info", RM, r"Retrying failed stop operation \[(?P<rsc>[^\]]*)\]",
      R + "info: Retrying failed stop operation [IPaddr::10.250.13.100]", rule="LOG002"),
    M("rm.not_lsb", "error", RM, r"Resource script for (?P<rsc>\S+) probably not LSB-compliant",
      R + "ERROR: Resource script for mysqld probably not LSB-compliant.", rule="LOG002"),
    M("rm.stop_must_succeed", "warn", RM, r"it \((?P<rsc>[^)]*)\) MUST succeed on a stop when already stopped",
      R + "WARN: it (mysqld) MUST succeed on a stop when already stopped", rule="LOG002"),
    M("rm.reboot_avoided", "warn", RM, r"Machine reboot narrowly avoided",
      R + "WARN: Machine reboot narrowly avoided!", rule="LOG002"),
    M("hto.ocf_failed", "error", both("resources/heartbeat/hto-mapfuncs.in"),
      r"(?P<result>Generic error|Illegal argument|Function unimplemented|User had insufficient privilege"
      r"|Program is not installed|Program is not configured|Unknown error: (?P<ocfrc>\d+))$",
      "2026/11/25_07:36:14  /usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_192.0.2.50)[9226]:    ERROR:  Generic error",
      rule="LOG002", note="the R1 wrapper of an OCF agent names the agent's failing return code"),
    M("hto.ocf_ok", "info", both("resources/heartbeat/hto-mapfuncs.in"), r"(?:Running OK|Success)$",
      "2026/11/25_09:19:22  /usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_10.250.13.100)[6191]:    INFO:  Running OK"),
    M("md.takeover_group", "info", MD + ", " + both("heartbeat/rc.d/ask_resources.in"),
      r"Taking over resource group (?P<group>\S+)",
      D + "info: Taking over resource group IPaddr::10.250.13.100/24/eth0"),
    M("md.takeover_complete", "info", MD, r"mach_down takeover complete(?: for node (?P<node>\S+?)\.?$)?",
      "2026/11/25_09:19:19  mach_down(default)[56]:    info: mach_down takeover complete for node node02."),
    M("md.nice_failback", "info", MD, r"nice_failback: foreign resources acquired",
      D + "info: /usr/share/heartbeat/mach_down: nice_failback: foreign resources acquired"),
)
