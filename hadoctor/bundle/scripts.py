"""The node side of ``hadoctor bundle create``: the two POSIX ``sh`` scripts each node runs, and reading
the first one's output back.

1. :func:`inventory_script`: small files and facts (``uname -n``, the clock, nodeinfo, ha.cf, haresources,
   logd.cf, the syslog configuration, authkeys and its mode) as frames of the one framing protocol of node
   scripts (:mod:`hadoctor.framing`), configurations masked on the node (:mod:`hadoctor.bundle.nodemask`);
   the collector keeps them in memory.
2. :func:`collect_script`: a tar stream of every command's output (:data:`COMMANDS`: each datum's commands
   from the registry, then the bundle's extras, :data:`hadoctor.datums.BUNDLE_EXTRAS`), the files the
   registry copies, and the logs ha.cf names, masked on the node.

What the collector does with them is :mod:`hadoctor.bundle.collect`.
"""

from __future__ import annotations

import os
from typing import Optional, Sequence, Tuple

from hadoctor.bundle.nodemask import sh_function
from hadoctor.datums import (ABSENT_STATUS, AUTHKEYS_PATH, BUNDLE_EXTRAS, HACF_PATH, HARESOURCES_PATH, MYSQL_DEFAULTS_VAR,
                             NODEINFO_PATH, all_commands)
from hadoctor.framing import CORRUPT, MISSING, SH, TOO_BIG, TRUNCATED, UNREADABLE, Output
from hadoctor.remote import SCRIPT_HEADER, quote


#: dump FILE masked on the node (nodemask's hd_mask), as the framing's dump does it unmasked
_DUMP_MASKED = ("mask_file() { hd_mask < \"$1\" 2>&1; }\n"
                "dumpm() { if [ -f \"$2\" ] && [ -r \"$2\" ]; then dumpcmd \"$1\" mask_file \"$2\"; "
                "else dump \"$1\" \"$2\"; fi; }\n")


def inventory_script(root: str) -> str:
    """The first script: small files and facts as frames (:mod:`hadoctor.framing`), kept in memory here."""
    r = quote(root.rstrip("/"))
    items = [
        ("uname", "uname -n"),
        ("clock", "d=$(date +%s.%N 2>/dev/null); case \"$d\" in *N*|*.|'') d=$(date +%s);; esac; echo \"$d\"; "
                  "date '+%Y-%m-%d %H:%M:%S %z'"),
        ("masking", 'echo "$HD_MASK"'),
        ("nodeinfo", f'dumpm nodeinfo "$R{NODEINFO_PATH}"'),
        ("ha.cf", f'dumpm ha.cf "$R{HACF_PATH}"'),
        ("haresources", f'dumpm haresources "$R{HARESOURCES_PATH}"'),
        ("logd.cf", 'dumpm logd.cf "$R/etc/logd.cf"'),
        ("syslog.conf", 'for f in "$R/etc/syslog.conf" "$R/etc/rsyslog.conf" "$R"/etc/rsyslog.d/*.conf; do '
                        '[ -f "$f" ] && { echo "### $f"; hd_mask < "$f"; }; done; true'),
        ("authkeys", f'dump authkeys "$R{AUTHKEYS_PATH}"'),
        ("authkeys.stat", f'f="$R{AUTHKEYS_PATH}"; if [ -e "$f" ]; then stat -c \'%a %U %G\' "$f" 2>/dev/null '
                          '|| ls -ld "$f" | awk \'{print $1, $3, $4}\'; fi'),
    ]
    body = [code if code.startswith(("dump ", "dumpm ")) else f"dumpcmd {name} eval {quote('{ ' + code + '; } 2>&1')}"
            for name, code in items]
    return SCRIPT_HEADER + SH + f"R={r}\n" + sh_function() + _DUMP_MASKED + "\n".join(body) + "\n"


#: (item name, output file, tool that must exist ('' none), command for `sh -c`): every datum's commands
#: (the live loader runs the same ones), then what only a bundle keeps for people (hadoctor.datums)
COMMANDS: Tuple[Tuple[str, str, str, str], ...] = tuple((c.item, c.file, c.tool, c.sh)
                                                        for c in all_commands() + list(BUNDLE_EXTRAS))


def collect_script(root: str, *, stamp: Optional[str], log_bases: Sequence[str], files: Sequence[Tuple[str, str]],
                   command_timeout: int, compress: bool, mysql_defaults: str = "") -> str:
    """The second script: a tar stream (meta, logs, out/*, then the named files) on stdout. ``mysql_defaults``:
    the option file each node's mysql client reads (its path travels, never its content)."""
    r = quote(root.rstrip("/"))
    lines = [SCRIPT_HEADER, f"R={r}", f"CT={int(command_timeout)}", "umask 077",
             f"{MYSQL_DEFAULTS_VAR}={quote(mysql_defaults)}; export {MYSQL_DEFAULTS_VAR}",
             'T=$(mktemp -d 2>/dev/null) || { T=/tmp/hadoctor-bundle.$$; mkdir "$T" || exit 70; }',
             "trap 'rm -rf \"$T\"' EXIT HUP INT TERM",
             'mkdir "$T/out" "$T/f"; : > "$T/meta"; : > "$T/logs"',
             'if command -v timeout >/dev/null 2>&1; then TO="timeout $CT"; else TO=""; fi',
             "now() { d=$(date +%s%N 2>/dev/null); case \"$d\" in ''|*[!0-9]*) d=$(( $(date +%s) * 1000000000 ));; "
             "esac; echo \"$d\"; }",
             # item NAME FILE TOOL SCRIPT: run SCRIPT with sh -c under timeout, record status
             "item() {\n"
             "  if [ -n \"$3\" ] && ! command -v \"$3\" >/dev/null 2>&1; then\n"
             "    printf '%s\\t%s\\tna\\t\\t0\\t%s\\t%s\\n' \"$1\" \"$2\" \"$3 not available\" \"$4\" >> \"$T/meta\";"
             " return; fi\n"
             "  t0=$(now); $TO sh -c \"$4\" sh \"$R\" > \"$T/out/$2\" 2> \"$T/err\"; rc=$?; t1=$(now)\n"
             "  st=ok; [ $rc -ne 0 ] && st=error; [ -n \"$TO\" ] && [ $rc -eq 124 ] && st=timeout\n"
             f"  [ $rc -eq {ABSENT_STATUS} ] && st=na\n"
             "  if [ -s \"$T/out/$2\" ]; then if hd_mask < \"$T/out/$2\" > \"$T/m\"; then mv \"$T/m\" \"$T/out/$2\"; "
             "else rm -f \"$T/m\"; printf 'unmasked\\t%s\\n' \"out/$2\" >> \"$T/logs\"; fi; fi\n"
             "  e=$(head -n 3 \"$T/err\" | hd_mask | tr '\\t\\n' '  ')\n"
             "  printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' \"$1\" \"$2\" \"$st\" \"$rc\" $((t1 - t0)) \"$e\" \"$4\" "
             ">> \"$T/meta\"\n"
             "}",
             'R="$R"; export R',
             sh_function(),
             # copy FILE masked (same mtime) below $T/f, decompressed and compressed again when it was; what
             # cannot be masked here goes as it is, noted, and the collector masks it
             "hd_copy() {\n"
             "  d=\"$T/f$1\"; mkdir -p \"${d%/*}\" || return 1; rm -f \"$T/bad\"\n"
             "  case \"$1\" in\n"
             "    *.gz) z=gzip;; *.bz2) z=bzip2;; *.xz|*.zst|*.lz4|*.lzma|*.Z) z=raw;; *) z=;; esac\n"
             "  if [ -z \"$z\" ]; then hd_mask < \"$1\" > \"$d\" || : > \"$T/bad\"\n"
             "  elif [ \"$z\" != raw ] && command -v \"$z\" >/dev/null 2>&1 && command -v gzip >/dev/null 2>&1; then\n"
             "    { \"$z\" -dc \"$1\" || : > \"$T/bad\"; } | { hd_mask || : > \"$T/bad\"; } "
             "| { gzip -1c || : > \"$T/bad\"; } > \"$d\"\n"
             "  else : > \"$T/bad\"; fi\n"
             "  if [ -e \"$T/bad\" ] || [ \"$HD_MASK\" = none ]; then\n"
             "    printf 'unmasked\\t%s\\n' \"$1\" >> \"$T/logs\"; cp \"$1\" \"$d\" || { rm -f \"$d\"; return 1; }; fi\n"
             "  touch -r \"$1\" \"$d\" 2>/dev/null; return 0\n"
             "}"]
    for name, out, tool, code in COMMANDS:
        lines.append(f"item {quote(name)} {quote(out)} {quote(tool)} {quote(code)}")
    lines.append("set --")
    lines.append("takef() { if [ -f \"$R$2\" ] && [ -r \"$R$2\" ] && hd_copy \"$R$2\"; then "
                 "printf 'file\\t%s\\t%s\\n' \"$1\" \"$2\" >> \"$T/logs\"; return 0; fi; "
                 "printf 'nofile\\t%s\\t%s\\n' \"$1\" \"$2\" >> \"$T/logs\"; return 1; }")
    for label, path in files:
        lines.append(f"P=\"$R\"{quote(path)}; takef {quote(label)} {quote(path)} && set -- \"$@\" \"${{P#/}}\"")
    if stamp:
        lines.append(f"touch -t {quote(stamp)} \"$T/since\" 2>/dev/null || rm -f \"$T/since\"")
    for base in log_bases:
        _folder, name = os.path.split(base)
        lines.append(
            f"for f in \"$R\"{quote(base)} \"$R\"{quote(base)}.* \"$R\"{quote(base)}-*; do "
            "[ -f \"$f\" ] || continue; "
            f"case \"${{f##*/}}\" in {quote(name)}|{quote(name)}.[0-9]*|{quote(name)}-[0-9]*) ;; *) continue;; esac; "
            "if [ ! -r \"$f\" ]; then printf 'unreadable\\t%s\\n' \"$f\" >> \"$T/logs\"; continue; fi; "
            "if [ -f \"$T/since\" ] && [ -z \"$(find \"$f\" -prune -newer \"$T/since\" 2>/dev/null)\" ]; then "
            "printf 'old\\t%s\\n' \"$f\" >> \"$T/logs\"; continue; fi; "
            "hd_copy \"$f\" || { printf 'unreadable\\t%s\\n' \"$f\" >> \"$T/logs\"; continue; }; "
            "printf 'log\\t%s\\n' \"$f\" >> \"$T/logs\"; set -- \"$@\" \"${f#/}\"; done")
    # meta, logs and out/ first (the collector reads the logs' origin before the logs), then the copies
    tar = 'tar cf - -C "$T" meta logs out -C "$T/f" "$@"'
    if compress:
        lines.append("if command -v gzip >/dev/null 2>&1; then " + tar + " | gzip -1 -c; else " + tar + "; fi")
    else:
        lines.append(tar)
    return "\n".join(lines) + "\n"


def inventory_item(out: Output, name: str) -> Tuple[str, bytes]:
    """(status, content) of one inventory item: ok, missing or error (then the content says why)."""
    status = out.status.get(name)
    if status == "0":
        return "ok", out.files.get(name, b"")
    if status == MISSING:
        return "missing", b"no such file"
    if status is None:
        return "error", b"not in the inventory's output"
    if status == UNREADABLE:
        return "error", b"not readable"
    if status in (TRUNCATED, CORRUPT, TOO_BIG):
        return "error", f"its output came back {status} (the node's output was cut short or garbled)".encode()
    return "error", out.files.get(name) or (b"exit status " + status.encode())
