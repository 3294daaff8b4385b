"""Messages of the resource agents heartbeat-era clusters run (resource-agents 4.12 and 3.9.5).

They log through ``ocf_log`` / ``ocf_exit_reason`` (ocf-shellfuncs); samples are in the ``date-tag``
layout of 4.x (3.9 writes ``tag-date``).
"""

from __future__ import annotations

from hadoctor.catalogue import M


def both(path: str) -> str:
    return f"agents-4.12:{path}, agents-3.9.5:{path}"


I1 = "2026/11/25_09:19:22  IPaddr(IPaddr_10.250.254.100)[242]:    "
I2 = "2026/11/25_09:19:21  IPaddr2(IPaddr2_10.250.17.100)[320]:    "

MESSAGES = (
    M("ra.findif_rc", "error", both("heartbeat/IPaddr"), r"findif failed \[rc=(?P<rc>\d+)\]",
      I1 + "ERROR: /usr/libexec/heartbeat/findif failed [rc=1].", rule="LOG001"),
    M("ra.findif_sh_failed", "error", both("heartbeat/IPaddr2"), r"\[findif\] failed",
      I2 + "ERROR: [findif] failed", rule="LOG001", note="WARN or info when only monitoring"),
    M("ra.findif_c_failed", "error", "agents-3.9.5:heartbeat/IPaddr2", r"\[[^\s\[]*findif -C\] failed",
      I2 + "ERROR: [/usr/lib/heartbeat/findif -C] failed", rule="LOG001"),
    M("ra.findif_no_default_route", "error", "agents-3.9.5:tools/findif.c", r"Cannot use default route w/o netmask",
      I1 + "ERROR: Cannot use default route w/o netmask [10.250.254.100]", rule="LOG001"),
    M("ra.findif_no_nic", "error", both("heartbeat/findif.sh"),
      r"Unable to find nic(?: or netmask|, or netmask mismatch)?",
      I2 + "ERROR: Unable to find nic or netmask.", rule="LOG001"),
    M("ra.findif_nic_mismatch", "error", both("heartbeat/IPaddr"),
      r"Invalid parameter value: nic \[(?P<nic>[^\]]*)\] Calculated nic: \[(?P<calc>[^\]]*)\]",
      I1 + "ERROR: Invalid parameter value: nic [eth1] Calculated nic: [eth0]", rule="LOG001"),
    M("ra.no_free_interface", "error", both("heartbeat/IPaddr"), r"No free interface found for (?P<vip>\S+)",
      I1 + "ERROR: No free interface found for 10.250.254.100", rule="LOG001"),
    M("ra.findif_bad_nic", "error", both("heartbeat/findif.sh"),
      r"Invalid interface name \[(?P<nic>[^\]]*)\]: (?P<reason>.*)",
      I2 + "ERROR: Invalid interface name [eth2]: Device \"eth2\" does not exist.", rule="LOG001"),
    M("ra.missing_command", "error", both("heartbeat/ocf-binaries.in"),
      r"Setup problem: couldn't find command: (?P<command>\S+)",
      "IPaddr(IPaddr_172.30.105.201)[56914]:\t2018/02/08_09:44:09 ERROR: Setup problem: couldn't find command: ifconfig",
      rule="LOG050"),
)
