"""Node-side POSIX sh for ``hadoctor drill`` (sh, coreutils and the node's own heartbeat tools).

Every script ignores SIGPIPE and SIGHUP and keeps its actions in a function called on the last
line, so a script cut short in transit runs nothing, and one whose connection dies mid-way still
finishes. Output uses the framing of every node script (``key=value`` lines, ``@file`` hex frames:
:mod:`hadoctor.framing`).

The lock ``/var/lib/heartbeat/hadoctor-drill.lock`` is created exclusively (``set -C``) on every
node before anything changes, holds the drill's journal (JSON: who runs it, what it changed, who
held the resources before) and is removed only once the starting state is back. A drill killed
mid-way therefore leaves a lock that names what to undo; the next run finds it.

>>> "hb_standby" in action_script("standby")
True
>>> "--dport 694" in action_script("cut", ports=[694])
True
>>> action_script("cut")
Traceback (most recent call last):
...
ValueError: cut needs the heartbeat ports
"""

from __future__ import annotations

from typing import Iterable, Sequence

from hadoctor.datums import HACF_PATH, HARESOURCES_PATH
from hadoctor.fix.nodescript import CL_STATUS_PATHS, HEARTBEAT_PATHS
from hadoctor.framing import SH
from hadoctor.remote import SCRIPT_HEADER, quote

LOCK_PATH = "/var/lib/heartbeat/hadoctor-drill.lock"
FIREWALL_TAG = "hadoctor-drill"
NFT_TABLE = "hadoctor_drill"
#: where hb_standby / hb_takeover live (Debian, RHEL/CentOS 5, SUSE, 64-bit libdirs)
TOOL_DIRS = ("/usr/share/heartbeat", "/usr/lib/heartbeat", "/usr/lib64/heartbeat", "/usr/libexec/heartbeat")
LOCK_EOF = "HADOCTOR_DRILL_EOF"
ACTIONS = ("standby", "takeover", "crash", "cut", "uncut", "start")

_LIB = r"""trap '' PIPE HUP
LOCK=%(lock)s
find_hb() { for p in %(hb)s; do [ -x "$p" ] && { printf '%%s' "$p"; return 0; }; done; return 1; }
find_cl() { for p in %(cl)s; do [ -x "$p" ] && { printf '%%s' "$p"; return 0; }; done; return 1; }
find_tool() { for d in %(dirs)s; do [ -x "$d/$1" ] && { printf '%%s' "$d/$1"; return 0; }; done; return 1; }
hb_pids() {
  hb=$(find_hb) || return 0
  for d in /proc/[0-9]*; do
    [ "$(readlink "$d/exe" 2>/dev/null)" = "$hb" ] && printf '%%s\n' "${d#/proc/}"
  done
  return 0
}
"""


def _lib() -> str:
    return SCRIPT_HEADER + SH + _LIB % {"lock": quote(LOCK_PATH), "hb": " ".join(HEARTBEAT_PATHS),
                                   "cl": " ".join(CL_STATUS_PATHS), "dirs": " ".join(TOOL_DIRS)}


def inspect_script(log_paths: Iterable[str] = ()) -> str:
    """Read-only: who the node is, heartbeat's state as cl_status sees it, its addresses, ha.cf,
    haresources, a drill lock, drill firewall rules left behind, and the size of each log."""
    sizes = "".join(f"  [ -f {quote(p)} ] && say log_size \"{p} $(wc -c < {quote(p)} | tr -d ' ')\"\n"
                    for p in log_paths)
    return _lib() + f"""main() {{
  say uname "$(uname -n)"
  say now "$(date +%s)"
  n=$(hb_pids | wc -l | tr -d ' '); say hb_processes "$n"
  if CL=$(find_cl); then
    say cl_status "$CL"
    "$CL" hbstatus >/dev/null 2>&1; say hbstatus_rc $?
    for x in $("$CL" listnodes 2>/dev/null); do say nodestatus "$x $("$CL" nodestatus "$x" 2>/dev/null | head -n 1)"; done
    say rscstatus "$("$CL" rscstatus 2>/dev/null | head -n 1)"
  fi
  dumpcmd ipa ip addr show
  dump hacf {quote(HACF_PATH)}
  dump haresources {quote(HARESOURCES_PATH)}
  dump lock "$LOCK"
  if command -v iptables >/dev/null 2>&1; then
    say fw_rules "$(iptables -S 2>/dev/null | grep -c {FIREWALL_TAG})"
  fi
  if command -v nft >/dev/null 2>&1 && nft list table inet {NFT_TABLE} >/dev/null 2>&1; then say fw_nft yes; fi
{sizes}  say result ok
}}
main
"""


def lock_script(journal: str) -> str:
    """Take the drill lock (exclusive create) holding ``journal``; ``result=locked`` and the
    holder's journal when another drill holds it."""
    if LOCK_EOF in journal:
        raise ValueError("journal holds the here-document delimiter")
    return _lib() + f"""main() {{
  mkdir -p "${{LOCK%/*}}" 2>/dev/null
  if ( umask 077; set -C; cat > "$LOCK" ) 2>/dev/null <<'{LOCK_EOF}'
{journal}
{LOCK_EOF}
  then say result ok
  else dump lock "$LOCK"; say result locked
  fi
}}
main
"""


def journal_script(journal: str) -> str:
    """Replace the journal inside the lock we hold (rename: never half a file)."""
    if LOCK_EOF in journal:
        raise ValueError("journal holds the here-document delimiter")
    return _lib() + f"""main() {{
  [ -f "$LOCK" ] || {{ say result nolock; return; }}
  ( umask 077; cat > "$LOCK.tmp" ) <<'{LOCK_EOF}'
{journal}
{LOCK_EOF}
  mv -f "$LOCK.tmp" "$LOCK" && say result ok
}}
main
"""


def unlock_script() -> str:
    return _lib() + 'main() {\n  rm -f "$LOCK" "$LOCK.tmp" && say result ok\n}\nmain\n'


def action_script(action: str, ports: Sequence[int] = ()) -> str:
    """One change on one node:

    * ``standby`` / ``takeover``: heartbeat's own ``hb_standby all`` / ``hb_takeover all``;
    * ``crash``: SIGKILL to every heartbeat process (the master and its children), resources left
      as they are, as when the daemon dies;
    * ``cut`` / ``uncut``: drop / stop dropping heartbeat's UDP ``ports`` in and out (iptables,
      rules tagged with a comment; nft table ``inet hadoctor_drill`` where iptables is missing);
    * ``start``: start heartbeat the way the node's init system does.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown drill action {action!r}")
    if action in ("cut", "uncut") and not ports:
        raise ValueError(f"{action} needs the heartbeat ports")
    ports = sorted({int(p) for p in ports})
    body = {
        "standby": '  t=$(find_tool hb_standby) || { say result fail; say reason "no hb_standby"; return; }\n'
                   '  say t_act "$(date +%s.%N)"; "$t" all >/dev/null 2>&1; say rc $?; say result ok\n',
        "takeover": '  t=$(find_tool hb_takeover) || { say result fail; say reason "no hb_takeover"; return; }\n'
                    '  say t_act "$(date +%s.%N)"; "$t" all >/dev/null 2>&1; say rc $?; say result ok\n',
        "crash": '  p=$(hb_pids); [ -n "$p" ] || { say result fail; say reason "heartbeat is not running"; return; }\n'
                 '  say t_act "$(date +%s.%N)"; kill -9 $p; say killed "$(echo $p | wc -w | tr -d \' \')"\n'
                 '  say result ok\n',
        "start": '  [ -n "$(hb_pids)" ] && { say result ok; say already yes; return; }\n'
                 '  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then\n'
                 '    systemctl start heartbeat >/dev/null 2>&1; say rc $?; say how systemctl\n'
                 '  elif [ -x /etc/init.d/heartbeat ]; then\n'
                 '    /etc/init.d/heartbeat start >/dev/null 2>&1; say rc $?; say how init.d\n'
                 '  elif hb=$(find_hb); then "$hb" >/dev/null 2>&1; say rc $?; say how "$hb"\n'
                 '  else say result fail; say reason "no way to start heartbeat"; return; fi\n'
                 '  say result ok\n',
    }.get(action)
    if action == "cut":
        ipt = "".join(
            f"    for c in INPUT OUTPUT; do iptables -I $c -p udp --dport {p} -m comment --comment {FIREWALL_TAG}"
            f" -j DROP 2>/dev/null || iptables -I $c -p udp --dport {p} -j DROP || ok=no; done\n" for p in ports)
        plist = ", ".join(str(p) for p in ports)
        body = ('  ok=yes; say t_act "$(date +%s.%N)"\n'
                '  if command -v iptables >/dev/null 2>&1; then\n' + ipt + '    say how iptables\n'
                '  elif command -v nft >/dev/null 2>&1; then\n'
                f'    nft add table inet {NFT_TABLE} && '
                f'nft add chain inet {NFT_TABLE} in "{{ type filter hook input priority -10 ; }}" && '
                f'nft add chain inet {NFT_TABLE} out "{{ type filter hook output priority -10 ; }}" && '
                f'nft add rule inet {NFT_TABLE} in udp dport "{{ {plist} }}" drop && '
                f'nft add rule inet {NFT_TABLE} out udp dport "{{ {plist} }}" drop || ok=no\n'
                '    say how nft\n'
                '  else ok=no; say reason "neither iptables nor nft"; fi\n'
                '  [ $ok = yes ] && say result ok || say result fail\n')
    elif action == "uncut":
        dels = "".join(
            f"    for c in INPUT OUTPUT; do while iptables -D $c -p udp --dport {p} -m comment --comment {FIREWALL_TAG}"
            f" -j DROP 2>/dev/null; do :; done; while iptables -D $c -p udp --dport {p} -j DROP 2>/dev/null; do :;"
            " done; done\n" for p in ports)
        body = ('  if command -v iptables >/dev/null 2>&1; then\n' + dels + '  fi\n'
                f'  if command -v nft >/dev/null 2>&1 && nft list table inet {NFT_TABLE} >/dev/null 2>&1; then\n'
                f'    nft delete table inet {NFT_TABLE}; fi\n'
                f'  n=0; command -v iptables >/dev/null 2>&1 && n=$(iptables -S 2>/dev/null | grep -c {FIREWALL_TAG})\n'
                '  say left "$n"; [ "$n" = 0 ] && say result ok || say result fail\n')
    return _lib() + f"main() {{\n{body}}}\nmain\n"
