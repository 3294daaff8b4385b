"""Log rules about the daemon's health: shutdowns, respawns, stalls, lost packets, comm failures."""

from __future__ import annotations

from hadoctor.catalogue import pattern
from hadoctor.rulekit import START_PATTERN, Doc, fail, in_current_run, info, log_derivation, log_rule


@log_rule(
    "LOG030", "heartbeat shut down in an emergency or demanded a reboot",
    severity="error",
    patterns={"emergency": pattern("hb.emergency"),
              "reboot": pattern("hb.stop_failure_reboot", "hb.kill_ungracefully")},
    context={"start": START_PATTERN},
    doc=Doc(
        meaning="A core heartbeat process died (Emergency Shutdown: Master Control process died), or a "
                "resource could not be stopped and heartbeat asked for a reboot.",
        why="The node left the cluster abruptly; the peer took over after deadtime. Without a fix it recurs.",
        fix="Read the lines just before it in the log: a media device that does not exist, an authkeys file "
            "made invalid before a SIGHUP, or a resource script whose stop fails.",
    ),
)
def emergency_shutdown(node, hits):
    evidence = hits["emergency"].evidence(node, 2) + hits["reboot"].evidence(node, 2)
    current = in_current_run(hits, "emergency") or in_current_run(hits, "reboot")
    yield fail(f"{hits['emergency'].count} emergency shutdown line(s), {hits['reboot'].count} forced reboot "
               f"line(s)", evidence, when="now" if current else "past")


@log_rule(
    "LOG031", "a respawned client keeps dying, or cannot be started",
    severity="warning",
    patterns={"respawn": pattern("hb.respawn"),
              "too_fast": pattern("hb.respawn_too_fast"),
              "bad_cmd": pattern("hb.bad_client_cmd"),
              "bad_uid": pattern("hb.bad_client_uid")},
    doc=Doc(
        meaning="A program started by a `respawn` line in ha.cf (ipfail, dopd, ...) exits again and again, or "
                "its path or user is wrong (e.g. /usr/lib/heartbeat/ipfail on a 64-bit package that installs "
                "it under /usr/lib64).",
        why="The helper (ipfail: failover when connectivity to the ping nodes is lost) is not working.",
        fix="Point the respawn line at the real path (`ls /usr/lib*/heartbeat/ /usr/libexec/heartbeat/`), an "
            "existing user (hacluster), and check the client's own errors.",
    ),
)
def respawn_trouble(node, hits):
    clients = set(hits["respawn"].values.get("client", {})) | set(hits["too_fast"].values.get("client", {}))
    clients |= set(hits["bad_cmd"].values.get("cmd", {}))
    evidence = []
    for key in ("bad_cmd", "bad_uid", "too_fast", "respawn"):
        evidence.extend(hits[key].evidence(node, 1))
    yield fail(f"respawned client trouble: {', '.join(sorted(clients)) or 'invalid user'}", evidence,
               when="past")


#: 500 ms or more: shorter dispatch stalls are routine (healthy lab nodes log 40-240 ms ones)
STALL_MS = r"[5-9]\d\d|[1-9]\d{3,}"
STALLED = pattern("glue.dispatch_delayed", ms=STALL_MS)

STALLS = log_derivation("stalls", STALLED, "every dispatch delay of half a second or more (groups what, ms)")


@log_rule(
    "LOG032", "heartbeat's main loop was stalled (dispatch delays)",
    severity="warning",
    patterns={"delayed": STALLED,
              "slow": pattern("glue.dispatch_too_long", ms=STALL_MS)},
    wants=("ha_cf",),
    doc=Doc(
        meaning="A timer in heartbeat fired late or ran long: the process was not scheduled in time (load, "
                "swapping, a VM paused, realtime off). Stalls under half a second (heartbeat logs 'read child "
                "took too long to execute: 140 ms (> 50 ms)' on healthy nodes) are not reported.",
        why="If 'send local status' is delayed past the peer's deadtime the peer declares this node dead. A "
            "stall shorter than warntime is reported as info, a longer one as a warning.",
        fix="Keep realtime on, avoid swapping (memreserve, enough RAM), look at what else ran at those times; "
            "if stalls are unavoidable raise deadtime (see LOG012).",
    ),
)
def dispatch_delays(node, hits):
    worst = max(h.numbers["ms"][1] for h in (hits["delayed"], hits["slow"]) if "ms" in h.numbers)
    whats = set(hits["delayed"].values.get("what", {})) | set(hits["slow"].values.get("what", {}))
    warntime = node.ha_cf.warntime.value if node.ha_cf is not None else 5000
    severity = "warning" if worst >= warntime else "info"
    yield fail(f"{hits['delayed'].count + hits['slow'].count} stall(s), worst {int(worst)} ms "
               f"({', '.join(sorted(whats))}; warntime {warntime} ms)",
               hits["delayed"].evidence(node, 2) + hits["slow"].evidence(node, 2), severity=severity, when="past")


@log_rule(
    "LOG033", "heartbeat packets from the peer were lost",
    severity="info",
    patterns={"lost": pattern("hb.lost_packets"),
              "lot": pattern("hb.lost_a_lot", "hb.irretrievably_lost")},
    doc=Doc(
        meaning="Sequence numbers from the peer had gaps: packets were lost on the heartbeat path (and "
                "usually retransmitted).",
        why="Occasional loss is harmless; steady loss precedes false failovers.",
        fix="Check the NIC and switch counters on the heartbeat path, and add a second heartbeat path.",
    ),
)
def lost_packets(node, hits):
    total = int(hits["lost"].numbers.get("n", [0, 0, 0, 0])[2])
    severity = "warning" if hits["lot"].count or total >= 100 else "info"
    yield fail(f"{total} packet(s) lost in {hits['lost'].count} gap(s) from "
               f"{', '.join(hits['lost'].values.get('node', {})) or 'the peer'}",
               hits["lost"].evidence(node, 2) + hits["lot"].evidence(node, 1), severity=severity, when="past")


@log_rule(
    "LOG034", "heartbeat could not run in realtime or lock its memory",
    severity="info",
    patterns={"mlock": pattern("glue.mlock_limits", "glue.mlock_pid"),
              "sched": pattern("glue.sched_params")},
    doc=Doc(
        meaning="heartbeat asked for realtime scheduling and locked memory and the system refused "
                "(RLIMIT_MEMLOCK too small, or a container without the capability).",
        why="Without them heartbeat can be delayed under load, which leads to late heartbeats.",
        fix="Raise the memlock limit for heartbeat (LimitMEMLOCK=infinity in the service), or set "
            "`realtime off` in ha.cf knowingly.",
    ),
)
def realtime_failures(node, hits):
    yield info("realtime scheduling or memory locking refused", hits["mlock"].evidence(node, 1)
               + hits["sched"].evidence(node, 1))


@log_rule(
    "LOG035", "heartbeat could not use a communication medium",
    severity="error",
    patterns={"device": pattern("hb.media_no_iface", "hb.media_bindtodevice"),
              "open": pattern("hb.media_cannot_open"),
              "illegal": pattern("hb.media_illegal"),
              "channels": pattern("hb.no_comm_channels", "hb.cable_unplugged"),
              "send": pattern("hb.send_hbcomm")},
    context={"start": START_PATTERN},
    doc=Doc(
        meaning="A bcast/ucast/mcast line names an interface that does not exist, a socket could not be "
                "opened, or heartbeat could not send on any medium.",
        why="With a missing device heartbeat aborts at start (bcast) or dies right after forking (ucast: "
            "Emergency Shutdown); without working media the nodes cannot hear each other.",
        fix="Use interface names that exist on THIS node (`ip a`); predictable names differ between nodes "
            "(eth0 vs ens33). Check cables/links for 'No working comm channels'.",
    ),
)
def media_failures(node, hits):
    ifaces = set(hits["device"].values.get("iface", {})) | set(hits["device"].values.get("iface2", {}))
    evidence = []
    for key in ("device", "illegal", "open", "channels", "send"):
        evidence.extend(hits[key].evidence(node, 1))
    current = any(in_current_run(hits, k) for k in ("device", "illegal", "open", "channels", "send"))
    what = f"interface(s) {', '.join(sorted(ifaces))} missing" if ifaces else "heartbeat media failed"
    yield fail(what, evidence, when="now" if current else "past")
