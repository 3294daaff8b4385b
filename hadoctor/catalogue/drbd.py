"""The drbddisk resource script (DRBD's heartbeat R1 wrapper, ``drbddisk::r0`` in haresources) as
heartbeat's log shows it.

drbddisk logs nothing itself: it runs ``drbdadm primary`` (start, up to 6 tries a second apart) or
``drbdadm secondary`` (stop, 3 tries) and answers status with "running (Primary)" or "stopped
(Secondary)". ResourceManager runs it (with its stdout and drbdadm's stderr going to ``debugfile``
only) and logs the operation and its result; these entries are ResourceManager's messages naming
drbddisk, more specific than the generic ones in :mod:`.scripts`, so that the failure is diagnosed as a
DRBD one. Older drbddisk scripts (DRBD 0.7) exit 20 on a failed start, current ones 1; the oldest 8.x
ones return success whatever drbdadm said, which no log line reveals.
"""

from __future__ import annotations

from hadoctor.catalogue import M

DD = "drbd-utils-9:scripts/drbddisk"
RM = "heartbeat-3.0.6:heartbeat/lib/ResourceManager.in, heartbeat-2.1:heartbeat/lib/ResourceManager.in"
R = "2026/11/25_09:19:22  ResourceManager(default)[148]:    "

MESSAGES = (
    M("drbd.running", "info", f"{RM}, {DD}",
      r"Running (?P<script>\S*/drbddisk) +(?:(?P<res>\S+) )?(?P<op>start|stop)$",
      R + "info: Running /etc/ha.d/resource.d/drbddisk r0 start",
      note="start makes the DRBD resource Primary here, stop makes it Secondary"),
    M("drbd.failed", "error", f"{RM}, {DD}", r"Return code (?P<rc>\d+) from (?P<script>\S*/drbddisk)$",
      R + "ERROR: Return code 1 from /etc/ha.d//resource.d/drbddisk", rule="LOG005",
      note="drbdadm primary (start) or secondary (stop) kept failing; rc 1 (drbd 8.x) or 20 (0.7)"),
    M("drbd.giving_up", "crit", f"{RM}, {DD}", r"Giving up resources due to failure of (?P<rsc>drbddisk(?:::\S+)?)$",
      R + "CRIT: Giving up resources due to failure of drbddisk::r0", rule="LOG005"),
    M("drbd.stop_retry", "info", f"{RM}, {DD}", r"Retrying failed stop operation \[(?P<rsc>drbddisk(?:::[^\]]*)?)\]",
      R + "info: Retrying failed stop operation [drbddisk::r0]", rule="LOG005",
      note="the device is still open (a mount, a process) or the peer refused"),
)
