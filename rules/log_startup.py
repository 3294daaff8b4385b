"""Log rules about start-up refusals: heartbeat said why it would not start."""

from __future__ import annotations

from hadoctor.catalogue import pattern
from hadoctor.rulekit import START_PATTERN, Doc, fail, in_current_run, info, log_rule

# heartbeat logs the first line after a parse_config failure and the second after every refusal, so one
# refusal usually logs both: count the final line, and fall back to the first when the final one is missing
REFUSED = pattern("hb.config_error")
PARSE_REFUSED = pattern("hb.parse_refused")


@log_rule(
    "LOG040", "heartbeat refused to start",
    severity="error",
    patterns={"refused": REFUSED, "parse": PARSE_REFUSED},
    context={"start": START_PATTERN},
    doc=Doc(
        meaning="heartbeat validated its configuration at start and refused it (exit code 6). The lines just "
                "before name the reason; other rules report the specific causes.",
        why="Heartbeat is not running on this node: its peer runs alone, or nothing runs.",
        fix="Fix the errors logged just before 'Configuration error, heartbeat not started' and start again.",
    ),
)
def refused_to_start(node, hits):
    key = "refused" if hits["refused"].count else "parse"
    count = hits[key].count
    if in_current_run(hits, "refused") or in_current_run(hits, "parse"):  # no start since: not running
        yield fail(f"heartbeat refused its configuration {count} time(s); the last attempt failed, so heartbeat "
                   "is not running on this node", hits[key].evidence(node, 1))
    else:  # a later start succeeded: worth knowing, not a fault now
        yield info(f"heartbeat refused its configuration {count} time(s); a later start succeeded",
                   hits[key].evidence(node, 1), when="past")


@log_rule(
    "LOG041", "this node's name is not among ha.cf's node lines",
    severity="error",
    patterns={"not_in": pattern("hb.node_not_in_config")},
    context={"start": START_PATTERN},
    doc=Doc(
        meaning="heartbeat names the local node by `uname -n` (lower-cased), or by /etc/ha.d/nodeinfo, and that "
                "name must be declared with a `node` line. It was not.",
        why="heartbeat refuses to start on this node.",
        fix="Make the `node` lines match `uname -n` exactly (FQDN vs short name matters), or set the hostname "
            "to the declared name.",
    ),
)
def current_node_not_in_config(node, hits):
    names = ", ".join(hits["not_in"].values.get("node", {}))
    yield fail(f"heartbeat refused to start: current node [{names}] is not declared in ha.cf",
               hits["not_in"].evidence(node, 1), when="now" if in_current_run(hits, "not_in") else "past")


@log_rule(
    "LOG042", "haresources names a node that is not in ha.cf",
    severity="error",
    patterns={"bad": pattern("hb.bad_haresources_node")},
    context={"start": START_PATTERN},
    doc=Doc(
        meaning="The first word of a haresources line must be a node declared in ha.cf (case-insensitive); "
                "heartbeat checks it after 'Configuration validated' and aborts.",
        why="heartbeat refuses to start, although the log said the configuration was validated.",
        fix="Use a declared node name as the first word of each haresources line, on both nodes.",
    ),
)
def bad_haresources_node(node, hits):
    names = ", ".join(hits["bad"].values.get("node", {}))
    yield fail(f"heartbeat refused haresources: unknown node [{names}]", hits["bad"].evidence(node, 1),
               when="now" if in_current_run(hits, "bad") else "past")


@log_rule(
    "LOG043", "heartbeat refused the authkeys file",
    severity="error",
    patterns={"auth": pattern("hb.keyfile_perms", "hb.keyfile_open", "hb.auth_bad_num", "hb.auth_bad_type",
                              "hb.auth_needs_key", "hb.auth_crc_key", "hb.auth_missing_directive",
                              "hb.auth_key_not_found", "hb.auth_line_invalid", "hb.auth_bad_line",
                              "hb.auth_reparse", "hb.auth_config_error")},
    context={"start": START_PATTERN},
    doc=Doc(
        meaning="heartbeat parsed /etc/ha.d/authkeys and refused it: bad permissions (group or other can "
                "read it), a missing `auth N` line or key, an unknown method, an index outside 0-15.",
        why="heartbeat does not start; after a reload (SIGHUP) on such a file the running daemon dies "
            "(Emergency Shutdown) and the peer takes over.",
        fix="chmod 600 /etc/ha.d/authkeys (root:root); one `auth N` line before the key lines; `N sha1 <key>`. "
            "Validate with `heartbeat -r` rather than a raw SIGHUP.",
    ),
)
def authkeys_refused(node, hits):
    yield fail("heartbeat refused /etc/ha.d/authkeys", hits["auth"].evidence(node, 2),
               when="now" if in_current_run(hits, "auth") else "past")


@log_rule(
    "LOG044", "heartbeat refused the timings in ha.cf",
    severity="error",
    patterns={"dead": pattern("hb.deadtime_vs_keepalive"),
              "init": pattern("hb.initdead_vs_deadtime"),
              "ping": pattern("hb.deadping_vs_keepalive")},
    context={"start": START_PATTERN},
    doc=Doc(
        meaning="heartbeat requires deadtime > 2 x keepalive (and deadping likewise) and initdead >= deadtime.",
        why="heartbeat does not start.",
        fix="Use e.g. keepalive 1, warntime 5, deadtime 10, initdead 30 (identical on both nodes).",
    ),
)
def timings_refused(node, hits):
    evidence = hits["dead"].evidence(node, 1) + hits["init"].evidence(node, 1) + hits["ping"].evidence(node, 1)
    current = any(in_current_run(hits, k) for k in ("dead", "init", "ping"))
    yield fail("heartbeat refused the timing directives", evidence, when="now" if current else "past")


@log_rule(
    "LOG045", "ha.cf has a directive heartbeat does not know",
    severity="error",
    patterns={"illegal": pattern("hb.illegal_directive")},
    context={"start": START_PATTERN},
    doc=Doc(
        meaning="heartbeat read a line whose first word is not a directive it knows (a typo, a `//` comment, "
                "or a media plugin that is not installed where heartbeat looks for it).",
        why="heartbeat does not start.",
        fix="Fix the spelling (see `hadoctor rule CFG001`), use `#` for comments, and check the plugins "
            "directory when a media directive (ucast, ping) is called illegal.",
    ),
)
def illegal_directive(node, hits):
    names = ", ".join(hits["illegal"].values.get("directive", {}))
    yield fail(f"illegal directive(s): {names}", hits["illegal"].evidence(node, 2),
               when="now" if in_current_run(hits, "illegal") else "past")
