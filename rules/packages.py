"""Known-bad package combinations."""

from __future__ import annotations

from hadoctor.parsers.packages import Version
from hadoctor.rulekit import Doc, Evidence, fail, rule


def _ra_moved_ha_bin(ra: Version) -> bool:
    """resource-agents that set HA_BIN to libexec: upstream 3.9.6+ (PR #285), or (assumed, see the rule's
    documentation) RHEL/CentOS 6 builds 3.9.2 from release 21.el6_4 on."""
    if ra.compare(Version.parse("3.9.6", ra.scheme)) >= 0:
        return True
    release = ra.release or ""
    if ra.upstream == "3.9.2" and "el6" in release:
        head = release.split(".")[0]
        return head.isdigit() and int(head) >= 21 and "el6_4" in release
    return False


@rule("PKG001", "resource-agents moved HA_BIN: heartbeat's init script may start nothing", severity="warning",
      needs=("packages",), doc=Doc(
    meaning="resource-agents PR #285 moved HA_BIN from /usr/lib(64)/heartbeat to /usr/libexec/heartbeat. "
            "Init scripts of heartbeat before 3.0.6 run `[ -x $HA_BIN/heartbeat ] || exit 0` with HA_BIN taken "
            "from resource-agents, so with such a resource-agents `service heartbeat start` exits 0, prints "
            "nothing, starts nothing and logs nothing (resource-agents issue #330, rhbz#1028127, fixed in "
            "heartbeat 3.0.6). The RHEL/CentOS 6 build 3.9.2-21.el6_4.x is believed to carry the change "
            "(not confirmed by a public changelog).",
    why="After a routine resource-agents update heartbeat silently stops starting at boot: the node never "
        "joins and its peer runs alone.",
    fix="Upgrade heartbeat to 3.0.6, or pin resource-agents to the previous version, or link "
        "/usr/libexec/heartbeat/heartbeat to the real daemon path; check with `service heartbeat start; "
        "cl_status hbstatus`.",
    links=("https://github.com/ClusterLabs/resource-agents/issues/330",
           "https://bugzilla.redhat.com/show_bug.cgi?id=1028127"),
))
def ha_bin_moved(node):
    pk = node.packages
    hb = pk.version_of("heartbeat")
    ra = pk.version_of("resource-agents")
    if hb is None or ra is None:
        return
    if hb.compare(Version.parse("3.0.6", hb.scheme)) < 0 and _ra_moved_ha_bin(ra):
        yield fail(f"heartbeat {hb} (init script uses $HA_BIN/heartbeat) with resource-agents {ra} "
                   f"(HA_BIN moved to /usr/libexec/heartbeat)",
                   [Evidence(node=node.name, file=node.source("packages"), observed=f"heartbeat {hb}, "
                             f"resource-agents {ra}", expected="heartbeat >= 3.0.6")])
