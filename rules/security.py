"""authkeys: what heartbeat refuses, and what is weak."""

from __future__ import annotations

from hadoctor.parsers.authkeys import BAD_MODE
from hadoctor.rulekit import Doc, at, fail, rule, skip


@rule("SEC001", "authkeys is readable by group or others", severity="error", needs=("authkeys",), doc=Doc(
    meaning="heartbeat refuses an authkeys file that group or others can read (mode 0640, 0644, ...): 'Bad "
            "permissions on keyfile [/etc/ha.d//authkeys], 600 recommended.'",
    why="heartbeat does not start; a reload (SIGHUP) on such a file kills the running daemon (Emergency "
        "Shutdown) and the peer takes over. Anyone on the host can also read the cluster key.",
    fix="chown root:root /etc/ha.d/authkeys && chmod 600 /etc/ha.d/authkeys (on both nodes).",
))
def authkeys_mode(node):
    keys = node.authkeys
    if keys.mode is None:
        yield skip("the file's mode is not known (give authkeys.stat in a node folder)")
        return
    if keys.mode & 0o044:
        yield fail(f"authkeys mode is {keys.mode & 0o7777:04o} ({keys.owner or '?'}:{keys.group or '?'}): "
                   f"heartbeat refuses it", [at(node, keys.path, 0, "file mode", observed=f"{keys.mode & 0o7777:04o}",
                                               expected="0600")])


@rule("SEC002", "authkeys has lines heartbeat refuses or misreads", severity="error", needs=("authkeys",),
      doc=Doc(
    meaning="authkeys needs one `auth N` line BEFORE the key line `N method key`; N is 0-15; crc takes no key, "
            "md5 and sha1 need one; the key is a single word. heartbeat picks the active key while reading, so "
            "an `auth` line after its key has no effect ('Auth Key [N] not found in keyfile').",
    why="heartbeat refuses to start, or signs with a different key than the admin thinks (a key with spaces is "
        "cut at the first space).",
    fix="Write exactly:  auth 1  /  1 sha1 <long random key>  (mode 0600).",
))
def authkeys_problems(node):
    problems = [p for p in node.authkeys.problems if p.code != BAD_MODE]  # SEC001 judges the mode
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    evidence = [at(node, p.file, p.line, p.message) for p in errors + warnings]
    if errors:
        yield fail("; ".join(p.message for p in errors[:3]), evidence)
    elif warnings:
        yield fail("; ".join(p.message for p in warnings[:3]), evidence, severity="warning")


@rule("SEC003", "the cluster signs with crc (no key)", severity="warning", needs=("authkeys",), doc=Doc(
    meaning="The crc method is an unkeyed checksum: anyone who can send UDP to the udpport can forge "
            "heartbeat messages (standby requests, status, resource messages).",
    why="On any network that is not a dedicated crossover cable this lets a third party control failover.",
    fix="Use `auth 1` / `1 sha1 <long random key>` on both nodes (hadoctor fix --authkeys).",
))
def crc_method(node):
    active = node.authkeys.active
    if active is not None and active.method == "crc":
        yield fail(f"active key {active.index} uses crc", [at(node, node.authkeys.path, active.line,
                                                              f"{active.index} crc")])
