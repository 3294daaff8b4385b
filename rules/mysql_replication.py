"""MySQL/MariaDB replication between the two nodes (the MOR setup: calls, users and balances there).

These rules read what the node's server reported (SHOW SLAVE STATUS, SHOW MASTER STATUS, SHOW GLOBAL
VARIABLES, my.cnf; see hadoctor.parsers.mysql). A node without MySQL has none of it and they skip
with the reason. "The master" is the server a replica's channel reads from (Master_Host)."""

from __future__ import annotations

import ipaddress
import math

from hadoctor.catalogue import pattern
from hadoctor.parsers.base import shorten
from hadoctor.rulekit import Doc, at, fail, from_record, info, log_rule, rule

#: replication lag (Seconds_Behind_Master) a takeover may lose without a warning
LAG_LIMIT_S = 300
LINKS = ("https://mariadb.com/kb/en/show-replica-status/",
         "https://dev.mysql.com/doc/refman/8.0/en/show-replica-status.html")


def _where(ch) -> str:
    port = ch.master_port
    source = ch.master_host + (f":{port}" if port and port != 3306 else "")
    return f"replication from {source or 'an unknown master'}" + (f" (connection {ch.name!r})" if ch.name else "")


def _ev(node, ch, text: str, **kw):
    return at(node, node.mysql_replica.path, ch.line, text, **kw)


def _thread_state(ch) -> list:
    """What is wrong with a channel's threads, in words (empty when both run)."""
    parts = []
    if ch.sql_running != "Yes":
        if ch.last_sql_errno:
            text = ch.text("Last_SQL_Error") or ch.text("Last_Error")
            parts.append(f"the SQL thread stopped on error {ch.last_sql_errno}: {shorten(text, 200)}")
        else:
            parts.append("the SQL thread is stopped (no error: stopped by hand, STOP SLAVE)")
    if ch.io_running != "Yes":
        state = "cannot connect to the master" if ch.io_running == "Connecting" else "is stopped"
        if ch.last_io_errno:
            parts.append(f"the IO thread {state}, error {ch.last_io_errno}: {shorten(ch.text('Last_IO_Error'), 200)}")
        else:
            parts.append(f"the IO thread {state}" + (" (no error: stopped by hand)" if state == "is stopped" else ""))
    return parts


def _positions(ch) -> str:
    read = f"{ch.text('Master_Log_File')}:{ch.read_master_log_pos}" if ch.read_master_log_pos is not None else "?"
    return f"applied up to {ch.stopped_at()}, read up to {read}"


@rule("MYS001", "MySQL replication is not running (IO or SQL thread stopped)", severity="error",
      needs=("mysql_replica",), doc=Doc(
    meaning="SHOW SLAVE STATUS on this node shows a replication channel whose IO thread (fetching the master's "
            "binary log) or SQL thread (applying it) is not running. The finding names the last error (number "
            "and text, e.g. 1062 duplicate key) and the master's binlog position the node applied up to.",
    why="Everything written on the master since that position is missing here. If this node takes over (the "
        "VIP moves to it), the calls, users and balances written since are lost or diverge, and writes made "
        "here then conflict with the old master's when it returns.",
    fix="Find why it stopped in the error and the MySQL error log. For 1062 (a row written on the replica too): "
        "compare the row on both nodes, fix it, then START SLAVE (skip the event only when the rows are equal). "
        "For a stopped thread without an error, START SLAVE. For 1593 (equal server ids) see MYS003. When in "
        "doubt re-seed the replica from a fresh dump of the master (mysqldump --master-data).",
    links=LINKS,
))
def replication_stopped(node):
    for ch in node.mysql_replica.channels:
        parts = _thread_state(ch)
        if parts:
            yield fail(f"{_where(ch)}: " + "; ".join(parts) + f"; {_positions(ch)}",
                       [_ev(node, ch, f"Slave_IO_Running: {ch.io_running or '?'}, Slave_SQL_Running: "
                            f"{ch.sql_running or '?'}",
                            observed=f"IO {ch.io_running or '?'}, SQL {ch.sql_running or '?'}",
                            expected="IO Yes, SQL Yes")])


@rule("MYS002", f"MySQL replication lags behind the master (more than {LAG_LIMIT_S} s, or unknown)",
      severity="warning", needs=("mysql_replica",), doc=Doc(
    meaning=f"Seconds_Behind_Master is over {LAG_LIMIT_S} s: the node applies the master's changes that late. "
            "NULL means the lag is unknown: a thread is not running (then MYS001 names why; this rule only "
            "notes it) or the IO thread is reconnecting.",
    why="A takeover during the lag starts this node with the data of that many seconds ago; what the old master "
        "wrote since is lost until it returns, and conflicts then.",
    fix="Find the cause: long transactions or big batches on the master, a slow disk on the replica, a "
        "MASTER_DELAY set on purpose (SQL_Delay). Watch the lag with this check or your monitoring.",
    links=LINKS,
))
def replication_lag(node):
    for ch in node.mysql_replica.channels:
        lag = ch.seconds_behind
        delay = ch.number("SQL_Delay") or 0
        note = f" (MASTER_DELAY {delay} s is set on purpose)" if delay else ""
        if lag is None:
            running = ch.io_running == "Yes" and ch.sql_running == "Yes"
            message = (f"{_where(ch)}: lag unknown (Seconds_Behind_Master NULL)"
                       + ("" if running else ": a replication thread is not running (see MYS001)"))
            evidence = [_ev(node, ch, "Seconds_Behind_Master: NULL", observed="NULL",
                            expected=f"at most {LAG_LIMIT_S}")]
            yield fail(message, evidence) if running else info(message, evidence)
        elif lag > LAG_LIMIT_S:
            yield fail(f"{_where(ch)}: {lag} s behind the master{note}; {_positions(ch)}",
                       [_ev(node, ch, f"Seconds_Behind_Master: {lag}", observed=lag,
                            expected=f"at most {LAG_LIMIT_S}")])


def _server_id(node):
    """(server_id, file, line): the running server's value, else my.cnf's."""
    if node.mysql_variables is not None and node.mysql_variables.number("server_id") is not None:
        v = node.mysql_variables
        return v.number("server_id"), v.path, v.line("server_id")
    opt = node.my_cnf.server_option("server_id") if node.my_cnf is not None else None
    if opt is not None and isinstance(opt.value, str) and opt.value.strip().isdigit():
        return int(opt.value.strip()), opt.file, opt.line
    return None


@rule("MYS003", "both nodes' MySQL servers have the same server_id", severity="error", scope="cluster",
      needs=("mysql_variables",), wants=("my_cnf", "mysql_replica"), doc=Doc(
    meaning="server_id is equal on two nodes (SHOW GLOBAL VARIABLES, or my.cnf where the server did not answer). "
            "Replication needs every server id to differ; a cloned VM or a copied my.cnf keeps the old one.",
    why="A replica ignores binlog events carrying its own server id and MariaDB/MySQL refuse to replicate "
        "between equal ids (IO thread error 1593): the nodes silently stop converging, and in master-master "
        "setups events loop or vanish.",
    fix="Give each node its own server-id in my.cnf ([mysqld] server-id = 1 on one node, 2 on the other), "
        "restart MySQL, then START SLAVE and check MYS001.",
    links=("https://mariadb.com/kb/en/replication-and-binary-log-system-variables/#server_id",),
))
def same_server_id(cluster):
    by_id = {}
    for node in cluster.nodes:
        found = _server_id(node)
        if found is not None:
            by_id.setdefault(found[0], []).append((node, found))
    for sid, holders in sorted(by_id.items()):
        if len(holders) < 2:
            continue
        evidence = [at(n, f, line, f"server_id\t{sid}", observed=sid, expected="a different id on each node")
                    for n, (_sid, f, line) in holders]
        for n, _found in holders:
            for ch in (n.mysql_replica.channels if n.mysql_replica is not None else []):
                if ch.last_io_errno == 1593:
                    evidence.append(_ev(n, ch, f"Last_IO_Errno: 1593 ({shorten(ch.text('Last_IO_Error'), 100)})"))
        yield fail(f"server_id {sid} on " + " and ".join(n.name for n, _f in holders), evidence)


def _auto_increment(node):
    v = node.mysql_variables
    if v is None:
        return None
    inc, off = v.number("auto_increment_increment"), v.number("auto_increment_offset")
    if inc is None or off is None:
        return None
    # the server ignores an offset larger than the increment (it then counts from 1)
    return max(inc, 1), (off if 1 <= off <= max(inc, 1) else 1)


def _shared_ids(a, b, limit: int = 3) -> list:
    (ia, oa), (ib, ob) = a, b
    if (oa - ob) % math.gcd(ia, ib):
        return []
    found, value = [], oa
    while len(found) < limit and value < oa + ia * ib * limit + ia:
        if value >= ob and (value - ob) % ib == 0:
            found.append(value)
        value += ia
    return found


@rule("MYS004", "master-master MySQL hands out the same auto_increment ids on both nodes", severity="error",
      scope="cluster", needs=("mysql_variables",), wants=("mysql_replica",), doc=Doc(
    meaning="Both nodes take writes and replicate from each other (each has a replication channel, or "
            "auto_increment_increment above 1 says the setup means to), but their auto_increment_increment and "
            "auto_increment_offset let both generate the same ids.",
    why="A row inserted on each node with the same id (after a takeover, or with writes on both) stops the "
        "other node's SQL thread with error 1062 (duplicate key): replication breaks and the data diverge.",
    fix="Interleave the ids: auto_increment_increment = 2 on both nodes, auto_increment_offset = 1 on one and "
        "2 on the other ([mysqld] in my.cnf, then restart or SET GLOBAL).",
    links=("https://mariadb.com/kb/en/auto_increment/#replication",),
))
def auto_increment_collision(cluster):
    nodes = [n for n in cluster.nodes if _auto_increment(n) is not None]
    master_master = len(nodes) >= 2 and all(n.mysql_replica is not None and n.mysql_replica.channels for n in nodes)
    if not master_master and all(_auto_increment(n)[0] <= 1 for n in nodes):
        return
    for i, a in enumerate(nodes):
        for b in nodes[i + 1:]:
            shared = _shared_ids(_auto_increment(a), _auto_increment(b))
            if not shared:
                continue
            (ia, oa), (ib, ob) = _auto_increment(a), _auto_increment(b)
            yield fail(f"{a.name} (increment {ia}, offset {oa}) and {b.name} (increment {ib}, offset {ob}) both "
                       f"generate ids {', '.join(map(str, shared))}, ..."
                       + ("" if master_master else " (increment above 1 says master-master is meant)"),
                       [at(n, n.mysql_variables.path, n.mysql_variables.line(name), f"{name}\t{value}", observed=value)
                        for n, (inc, off) in ((a, (ia, oa)), (b, (ib, ob)))
                        for name, value in (("auto_increment_increment", inc), ("auto_increment_offset", off))])


@rule("MYS005", "binary log off on a node that becomes the MySQL master after a takeover", severity="warning",
      needs=("mysql_variables",), wants=("mysql_master", "mysql_replica"), doc=Doc(
    meaning="log_bin is OFF on this node while the pair replicates (a node has a replication channel). After a "
            "takeover this node holds the VIP and takes the writes, but writes no binary log.",
    why="The other node cannot replicate from a server without a binary log: once it returns, everything "
        "written here during the takeover never reaches it, and failing back loses it.",
    fix="Enable the binary log on every node that can take over: [mysqld] log-bin = mysql-bin (and "
        "log_slave_updates in chains), restart MySQL.",
    links=("https://mariadb.com/kb/en/activating-the-binary-log/",),
))
def binlog_off(node):
    if node.mysql_variables.flag("log_bin") is not False:
        return
    replicating = [n.name for n in [node] + node.peers if n.mysql_replica is not None and n.mysql_replica.channels]
    if not replicating:
        return
    v = node.mysql_variables
    master = node.mysql_master
    extra = " and SHOW MASTER STATUS is empty" if master is not None and not master.logging else ""
    verb = "replicates" if len(replicating) == 1 else "replicate"
    yield fail(f"log_bin is OFF{extra}, while {' and '.join(replicating)} {verb}: after a takeover this node "
               "takes the writes and the other node cannot replicate them",
               [at(node, v.path, v.line("log_bin"), "log_bin\tOFF", observed="OFF", expected="ON")])


def _vip_holders(cluster):
    vips = set()
    for n in cluster.nodes:
        for group in (n.haresources.groups if n.haresources is not None else []):
            for res in group.resources:
                if res.ip is not None and res.ip.ip is not None:
                    vips.add(res.ip.ip)
    holders = [n for n in cluster.nodes if n.addresses is not None
               and any(n.addresses.find_address(v) is not None for v in vips)]
    return vips, holders


def _names(node, host: str) -> str:
    """Whether ``host`` (a Master_Host) is ``node``: its name or one of its addresses; "vip" for a VIP."""
    if host.lower() == node.name.lower() or host.lower().split(".")[0] == node.name.lower():
        return "yes"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "unknown"
    return "yes" if node.addresses is not None and node.addresses.find_address(host) is not None else "no"


@rule("MYS006", "the standby does not replicate from the node holding the VIP", severity="error", scope="cluster",
      needs=("haresources", "addresses", "mysql_replica"), doc=Doc(
    meaning="The VIP (where the applications write) is on one node, but the other node's replication reads from "
            "somewhere else (Master_Host is neither the VIP holder's name nor one of its addresses), or it does "
            "not replicate at all (SHOW SLAVE STATUS is empty).",
    why="Writes reach the VIP holder only; the standby does not receive them. At the next takeover the standby "
        "starts without them: calls, users and balances written since are lost.",
    fix="On the standby: CHANGE MASTER TO MASTER_HOST='<the VIP holder's address>', ... then START SLAVE "
        "(re-seed from a dump if the data already diverged). Or move the VIP back to the node that is the "
        "master (hb_takeover there).",
    links=LINKS,
))
def standby_not_replicating_from_holder(cluster):
    vips, holders = _vip_holders(cluster)
    if len(holders) != 1:
        return  # nobody or both hold a VIP: XND001/XND002 judge that
    holder = holders[0]
    for node in cluster.nodes:
        if node is holder or node.mysql_replica is None:
            continue
        channels = node.mysql_replica.channels
        if not channels:
            yield fail(f"{node.name} does not replicate at all (SHOW SLAVE STATUS is empty) while {holder.name} "
                       "holds the VIP and takes the writes",
                       [at(node, node.mysql_replica.path, 0, "(empty)", observed="no replication",
                           expected=f"replication from {holder.name}")])
            continue
        verdicts = [(ch, "vip" if ch.master_host in {str(v) for v in vips} else _names(holder, ch.master_host))
                    for ch in channels]
        if any(v in ("yes", "vip", "unknown") for _ch, v in verdicts):
            continue
        for ch, _v in verdicts:
            yield fail(f"{node.name} reads its {_where(ch)}, but {holder.name} holds the VIP and takes the writes",
                       [_ev(node, ch, f"Master_Host: {ch.master_host}", observed=ch.master_host,
                            expected=f"{holder.name} or one of its addresses")])


@rule("MYS007", "read_only is off on the MySQL replica that does not hold the VIP (master-slave)", severity="warning",
      scope="cluster", needs=("haresources", "addresses", "mysql_variables", "mysql_replica"), doc=Doc(
    meaning="In a master-slave pair (the node without the VIP replicates from the VIP holder, which replicates "
            "from nobody) the replica accepts writes: read_only is OFF there.",
    why="A write that reaches the standby (a script or cron job using its own address, an application "
        "misconfigured) is not replicated back and conflicts with the master's rows: error 1062 later stops "
        "replication (MYS001), and a takeover keeps the wrong rows.",
    fix="SET GLOBAL read_only = ON on the standby and read_only = 1 in its my.cnf [mysqld]; the takeover script "
        "(or a resource in haresources) turns it off on the node that takes the VIP.",
    links=("https://mariadb.com/kb/en/server-system-variables/#read_only",),
))
def standby_writable(cluster):
    _vips, holders = _vip_holders(cluster)
    if len(holders) != 1 or holders[0].mysql_replica is None or holders[0].mysql_replica.channels:
        return  # no single holder, unknown, or the holder replicates too (master-master: both take writes)
    holder = holders[0]
    for node in cluster.nodes:
        if node is holder or node.mysql_replica is None or not node.mysql_replica.channels:
            continue
        v = node.mysql_variables
        if v is not None and v.flag("read_only") is False:
            yield fail(f"{node.name} replicates from {node.mysql_replica.channels[0].master_host} and does not hold "
                       "the VIP, but read_only is OFF: it accepts writes",
                       [at(node, v.path, v.line("read_only"), "read_only\tOFF", observed="OFF", expected="ON")])


TAKEOVER = pattern("md.takeover_complete", "md.takeover_group", "hb.standby_done")


def _old_master(node, ch):
    """The peer this channel reads from (by name or address), else the only peer a host name may be."""
    verdicts = [(peer, _names(peer, ch.master_host)) for peer in node.peers]
    for peer, verdict in verdicts:
        if verdict == "yes":
            return peer
    unknown = [peer for peer, verdict in verdicts if verdict == "unknown"]  # a host name we cannot place
    return unknown[0] if len(unknown) == 1 else None


def _behind(node, ch, took=None) -> str:
    """How much the old master's binlog is ahead of what this node applied, where the data tells."""
    peer = _old_master(node, ch)
    master = peer.mysql_master if peer is not None else None
    applied_file, applied = ch.text("Relay_Master_Log_File"), ch.exec_master_log_pos
    parts = []
    if master is not None and master.logging and applied is not None:
        if master.file == applied_file and master.position is not None:
            parts.append(f"{master.position - applied} bytes of {peer.name}'s binlog not applied "
                         f"({applied_file}:{applied} .. {master.position})")
        else:
            parts.append(f"{peer.name}'s binlog is at {master.file}:{master.position}, applied only up to "
                         f"{applied_file}:{applied}")
    elif applied is not None:
        parts.append(f"applied up to {ch.stopped_at()}")
    if ch.seconds_behind is not None:
        parts.append(f"{ch.seconds_behind} s behind")
    stopped = ch.error_time()
    if stopped is not None:
        when = f"stopped by its error at {stopped:%Y-%m-%d %H:%M:%S}"
        if took is not None:
            when += (f", {_span(took - stopped)} before the takeover" if stopped <= took
                     else ", after the takeover")
        parts.append(when)
    return "; ".join(parts)


def _span(delta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 60} min {seconds % 60} s"


@log_rule(
    "MYS008", "the node took over while its MySQL replication was stopped or behind", severity="error",
    needs=("log", "mysql_replica"), wants=("mysql_master",),
    patterns={"takeover": TAKEOVER},
    doc=Doc(
        meaning="The heartbeat log shows this node taking over the resources (mach_down takeover, or a standby "
                "acquisition) and its MySQL replication is stopped or lags more than "
                f"{LAG_LIMIT_S} s. The finding says how far behind by the master's binlog position and in "
                "seconds where the data has them.",
        why="After the takeover the applications write to this node's database, which lacks what the old owner "
            "wrote since the last applied position: those rows are lost here, and the old owner's copy "
            "conflicts when it returns.",
        fix="Before failing back: compare the two databases (pt-table-checksum, or row counts and the latest "
            "ids of the busy tables), copy what is missing from the old owner, restart replication (MYS001), "
            "and make replication part of what you watch (MYS001, MYS002).",
        links=LINKS,
    ),
)
def takeover_while_behind(node, hits):
    took = hits["takeover"]
    for ch in node.mysql_replica.channels:
        stopped = _thread_state(ch)
        lag = ch.seconds_behind
        if not stopped and (lag is None or lag <= LAG_LIMIT_S):
            continue
        state = "; ".join(stopped) if stopped else f"it lags {lag} s"
        when = took.last.time.strftime("%Y-%m-%d %H:%M:%S") if took.last.time is not None else "(time unknown)"
        yield fail(f"took over at {when} (the last takeover in the log); {_where(ch)} at collection: "
                   f"{state}; {_behind(node, ch, took.last.time)}",
                   [from_record(node, took.last),
                    _ev(node, ch, f"Slave_IO_Running: {ch.io_running}, Slave_SQL_Running: {ch.sql_running}, "
                        f"Exec_Master_Log_Pos: {ch.exec_master_log_pos}")])
