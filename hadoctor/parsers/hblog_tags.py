"""Which records of a syslog file are the cluster's: heartbeat's, its daemons', its scripts' and its
resource agents' (by program tag), and the kernel lines that matter to a cluster.

A record's ``component`` is the tag its line layout parses: the syslog ident or script name, the
basename of a path like /usr/lib/ocf/resource.d//heartbeat/IPaddr.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional

from hadoctor.parsers.hblog_record import LogRecord

#: Program tags of heartbeat, its daemons (R1 and the 2.x CRM), its scripts and the resource agents it
#: ships (docs/heartbeat/logs.md#line-layouts). ``hadoctor bundle create`` keeps only these records (plus
#: :data:`CLUSTER_KERNEL` lines) from syslog files.
HEARTBEAT_TAGS = frozenset((
    # daemons and their children
    "heartbeat", "ipfail", "ccm", "ha_logd", "logd", "ha_logger", "apphbd", "recoverymgrd", "dopd", "mgmtd",
    "cib", "crmd", "lrmd", "attrd", "pengine", "tengine", "stonithd", "stonith-ng", "stonith", "pingd",
    # scripts (ha_log through ocf-shellfuncs)
    "ResourceManager", "harc", "mach_down", "req_resource", "hb_standby", "hb_takeover", "hb_addnode",
    "hb_delnode", "ip-request", "ip-request-resp", "findif", "send_arp", "SendArp",
    # resource agents heartbeat ships in resource.d (R1) and their OCF counterparts
    "IPaddr", "IPaddr2", "IPsrcaddr", "IPv6addr", "Filesystem", "drbddisk", "LVM", "Raid1", "MailTo",
    "AudibleAlarm", "Delay", "portblock", "LinuxSCSI", "ServeRAID", "WAS", "WinPopup", "Xinetd", "ICP", "db2",
    "OCF", "LVSSyncDaemonSwap", "ids",
))

#: Kernel lines (component ``kernel``) that matter to a cluster: NIC link up/down (e1000, e1000e, igb,
#: ixgbe, tg3, bnx2, r8169...: "Link is Up", "link up", "link becomes ready"), ``NETDEV WATCHDOG``
#: transmit timeouts, bonding, watchdog/softdog (heartbeat's ``watchdog``), soft lockups and DRBD.
#: Everything else the kernel says (OOM kills, USB, file systems, firewall LOG lines...) is not kept.
CLUSTER_KERNEL = re.compile(r"NETDEV WATCHDOG|(?i:\blink (?:is )?(?:up|down)\b|link becomes ready|\bbonding\b"
                            r"|\bbond\d+:|watchdog|softdog|soft lockup|\bdrbd)")



def is_cluster_record(rec: "LogRecord", extra_tags: Iterable[str] = ()) -> Optional[bool]:
    """True for a record of heartbeat or its helpers (:data:`HEARTBEAT_TAGS`, or ``extra_tags``: a node's
    own resource scripts, logd.cf's ``entity``/``syslogprefix``) or a :data:`CLUSTER_KERNEL` line;
    False for any other program's; None when the record has no program tag (``last message repeated 3
    times``, a level-only or unknown line): it belongs with the record before it.

    >>> from hadoctor.parsers.hblog import parse_line

    >>> is_cluster_record(parse_line(b"May  9 12:10:40 gw2 ResourceManager[26976]: info: Acquiring resource group"))
    True
    >>> is_cluster_record(parse_line(b"Nov 25 07:34:40 nodea kernel: [ 12.3] e1000e: eth1 NIC Link is Down"))
    True
    >>> is_cluster_record(parse_line(b"Nov 25 07:34:40 nodea sshd[123]: Accepted publickey for root"))
    False
    """
    comp = rec.component
    if comp is None:
        return None
    if comp in HEARTBEAT_TAGS or comp in extra_tags:
        return True
    return comp == "kernel" and CLUSTER_KERNEL.search(rec.message) is not None
