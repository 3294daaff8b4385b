"""Log rules about broken installations: missing helper commands, users and groups, known agent bugs."""

from __future__ import annotations

from hadoctor.catalogue import pattern
from hadoctor.rulekit import START_PATTERN, Doc, fail, in_current_run, log_rule


@log_rule(
    "LOG050", "a resource agent cannot find a command it needs",
    severity="error",
    patterns={"missing": pattern("ra.missing_command")},
    context={"start": START_PATTERN},
    doc=Doc(
        meaning="An OCF agent checked for a helper program and did not find it: the legacy IPaddr agent needs "
                "`ifconfig` (net-tools, not installed by default on CentOS 7 / Debian), Filesystem needs `fuser` "
                "(psmisc).",
        why="The resource cannot start: heartbeat gives the group up and the service is down.",
        fix="Install the package that provides the command (net-tools for ifconfig, psmisc for fuser), or use "
            "IPaddr2 (iproute2) instead of IPaddr.",
    ),
)
def helper_command_missing(node, hits):
    commands = ", ".join(sorted(hits["missing"].values.get("command", {})))
    yield fail(f"missing command(s): {commands}", hits["missing"].evidence(node),
               when="now" if in_current_run(hits, "missing") else "past")


@log_rule(
    "LOG051", "heartbeat has no haclient group or hacluster user",
    severity="error",
    patterns={"group": pattern("glue.invalid_group"),
              "user": pattern("hb.invalid_user", "hb.bad_client_uid")},
    context={"start": START_PATTERN},
    doc=Doc(
        meaning="heartbeat's default apiauth entries and respawned clients run as hacluster:haclient; on a "
                "source build (or a broken package install) that user or group does not exist.",
        why="heartbeat refuses the apiauth directives and does not start, or its clients (ipfail) do not run.",
        fix="Create them: groupadd -r haclient; useradd -r -g haclient -d /var/lib/heartbeat -s /sbin/nologin "
            "hacluster (the distribution packages do this).",
    ),
)
def missing_user_or_group(node, hits):
    names = sorted(set(hits["group"].values.get("group", {})) | set(hits["user"].values.get("user", {}))
                   | set(hits["user"].values.get("uid", {})))
    yield fail(f"unknown user/group: {', '.join(names)}", hits["group"].evidence(node, 2)
               + hits["user"].evidence(node, 2),
               when="now" if in_current_run(hits, "group") or in_current_run(hits, "user") else "past")


@log_rule(
    "LOG052", "messages written to heartbeat's FIFO were garbled (resource-agents #396)",
    severity="warning",
    patterns={"nv": pattern("glue.nv_failure", "glue.nv_no_equals")},
    doc=Doc(
        meaning="A script's ha_clustermsg wrote a message into /var/lib/heartbeat/fifo that heartbeat could not "
                "parse (resource-agents issue #396: the shell function wrote the message in several pieces).",
        why="Cluster messages from scripts (resource ownership, standby requests) are lost.",
        fix="Update resource-agents to a version with the ha_clustermsg fix, or avoid the scripts that send "
            "cluster messages through the FIFO.",
        links=("https://github.com/ClusterLabs/resource-agents/issues/396",),
    ),
)
def fifo_nv_failure(node, hits):
    yield fail(f"{hits['nv'].count} garbled FIFO message line(s)", hits["nv"].evidence(node, 2), when="past")
