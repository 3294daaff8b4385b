"""Node-side POSIX sh scripts for ``fix --authkeys`` (sh + coreutils; no Python on the node).

Every script is one transaction that runs to its end even if hadoctor or its ssh connection dies
(SIGPIPE and SIGHUP are ignored), and every action sits in a function called on the last line, so
a script cut short in transit runs nothing of it. Secrets travel inside quoted here-documents
on the script's standard input, never in an argument list.

Writing a new authkeys (``prepare`` then ``commit``):

1. ``.authkeys.hadoctor-next`` is created empty with ``umask 077`` and ``set -C`` (exclusive,
   mode 0600 from the first byte, owner copied from authkeys), then filled, checked with
   ``cksum`` against what hadoctor sent, given an mtime later than the live file's (heartbeat
   notices a change by mtime in whole seconds) and fsynced; a copy of the live file is kept as
   ``.authkeys.hadoctor-prev`` (0600);
2. ``commit``: rename over authkeys (atomic), ``heartbeat -r`` (validates everything and only
   then signals the daemon; a refused file leaves the daemon untouched), directory fsync; when
   heartbeat refuses the file the previous one goes back (newer mtime again) and is reloaded.

A held switch with a :class:`Watchdog` (commit confirmed, docs/fix-authkeys.md#commit-confirmed) keeps
``.authkeys.hadoctor-prev``, arms ``/var/lib/heartbeat/.hadoctor-fix.armed`` and starts a detached
watchdog before the rename; ``confirm`` disarms it, otherwise it puts the previous file back.

Backups ``authkeys.hadoctor-YYYYmmddTHHMMSS[.n]`` are created with ``set -C`` (never overwriting
anything), mode 0600, compared with ``cmp`` and fsynced. The journal
(``/var/lib/heartbeat/hadoctor-fix.json``, 0600) is replaced atomically the same way.

Output is framed as every node script's is (:mod:`hadoctor.framing`: ``say``, ``dump``, ``dumpcmd``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

from hadoctor.fix.keyfile import HEREDOC_EOF, posix_cksum
from hadoctor.framing import SH, Output, parse_output  # noqa: F401 (fix's modules read script output through these)
from hadoctor.remote import SCRIPT_HEADER, quote
from hadoctor.datums import AUTHKEYS_PATH, HA_DIR

JOURNAL_NAME = "hadoctor-fix.json"
NEXT_NAME = ".authkeys.hadoctor-next"
PREV_NAME = ".authkeys.hadoctor-prev"
#: in /var/lib/heartbeat: the armed token (its content: the revert deadline, epoch) and the watchdog's script
ARMED_NAME = ".hadoctor-fix.armed"
WATCHDOG_NAME = ".hadoctor-fix.watchdog"
HEARTBEAT_PATHS = ("/usr/libexec/heartbeat/heartbeat", "/usr/lib/heartbeat/heartbeat",
                   "/usr/lib64/heartbeat/heartbeat")
CL_STATUS_PATHS = ("/usr/bin/cl_status", "/usr/sbin/cl_status")
JSON_EOF = "HADOCTOR_JOURNAL_EOF"

_LIB = r"""
trap '' PIPE HUP
umask 077
HA="$R%(ha_dir)s"; AK="$R%(authkeys)s"; NEXT="$HA/%(next)s"; PREV="$HA/%(prev)s"
ST="$R/var/lib/heartbeat"; J="$ST/%(journal)s"; ARM="$ST/%(armed)s"; WD="$ST/%(watchdog)s"
fail() { say reason "$*"; say result fail; exit 1; }
mtime() { stat -c %%Y "$1" 2>/dev/null; }
fmode() { stat -c %%a "$1" 2>/dev/null; }
stamp() { d=$(date +%%s.%%N 2>/dev/null); case "$d" in *N*|'') d=$(date +%%s);; esac; printf '%%s' "$d"; }
fsync() { sync "$@" 2>/dev/null || sync; }
sum_of() { set -- $(cksum < "$1"); printf '%%s %%s' "$1" "$2"; }
find_hb() {
  for p in %(hb_paths)s; do if [ -x "$R$p" ]; then printf '%%s' "$R$p"; return 0; fi; done
  return 1
}
newfile() {
  rm -f "$1" || return 1
  ( set -C; : > "$1" ) 2>/dev/null || return 1
  if [ -f "$AK" ]; then chown "$(stat -c %%u:%%g "$AK")" "$1" 2>/dev/null || :; fi
  [ "$(fmode "$1")" = 600 ]
}
bump() {
  b=$(mtime "$2"); [ -n "$b" ] || return 0
  a=$(mtime "$1")
  if [ "$a" -le "$b" ]; then
    t=$((b + 1))
    touch -d "@$t" "$1" 2>/dev/null || touch -t "$(date -d "@$t" +%%Y%%m%%d%%H%%M.%%S)" "$1" || return 1
  fi
  [ "$(mtime "$1")" -gt "$b" ]
}
reload() {
  hb=$(find_hb) || { say "$1_rc" 127; say "$1_out" "no heartbeat binary in %(hb_words)s"; return 1; }
  out=$("$hb" -r </dev/null 2>&1); rc=$?
  say "$1_rc" "$rc"
  printf '%%s\n' "$out" | grep -E 'Config errors|ERROR|rror|Signalling|not running|No process|refused' \
    | tail -n 6 | sed "s/^/$1_out=/" 2>/dev/null
  return $rc
}
journal() {
  [ -d "$ST" ] || mkdir -p "$ST" || return 1
  t="$ST/.%(journal)s.tmp"
  newfile "$t" || return 1
  cat > "$t" && fsync "$t" && mv -f "$t" "$J" && fsync "$ST"
}
backup() {
  [ -f "$AK" ] || fail "no $AK to back up"
  ts=$(date +%%Y%%m%%dT%%H%%M%%S); BACKUP="$HA/authkeys.hadoctor-$ts"; n=1
  while [ -e "$BACKUP" ]; do BACKUP="$HA/authkeys.hadoctor-$ts.$n"; n=$((n + 1)); done
  ( set -C; cat "$AK" > "$BACKUP" ) 2>/dev/null || fail "cannot create the backup $BACKUP"
  [ "$(fmode "$BACKUP")" = 600 ] || chmod 600 "$BACKUP" || fail "cannot make $BACKUP mode 0600"
  cmp -s "$AK" "$BACKUP" || fail "the backup $BACKUP differs from $AK"
  fsync "$BACKUP"; fsync "$HA"
  say backup "$BACKUP"
}
prepare() {
  newfile "$NEXT" || fail "cannot create $NEXT with mode 0600"
  cat > "$NEXT" || fail "cannot write $NEXT"
  [ "$(sum_of "$NEXT")" = "$1" ] || fail "the new file did not arrive intact (cksum)"
  [ -f "$AK" ] || fail "no $AK"
  { newfile "$PREV" && cat "$AK" > "$PREV"; } || fail "cannot keep a copy of $AK"
  bump "$NEXT" "$AK" || fail "cannot give the new file a later mtime than $AK"
  fsync "$NEXT" "$PREV"
  say prepared "$(sum_of "$NEXT")"
}
commit() {
  [ -f "$NEXT" ] && [ "$(fmode "$NEXT")" = 600 ] || fail "$NEXT is missing or not mode 0600"
  say t_start "$(stamp)"
  mv -f "$NEXT" "$AK" || fail "cannot rename $NEXT over $AK"
  if reload reload; then
    say t_done "$(stamp)"
    fsync "$HA"
    say mtime "$(mtime "$AK")"
    [ -n "${KEEP_PREV:-}" ] || rm -f "$PREV"
    return 0
  fi
  say t_done "$(stamp)"
  bump "$PREV" "$AK"; mv -f "$PREV" "$AK"; fsync "$HA"
  reload undo
  fail "heartbeat -r refused the new file and kept running with the old one; the previous file is back"
}
"""


def _lib(root: str) -> str:
    root = root.rstrip("/")
    if any(c in root for c in "\n\0|\"'\\$`"):
        raise ValueError(f"unsupported characters in --root {root!r}")
    body = _LIB % {"ha_dir": HA_DIR, "authkeys": AUTHKEYS_PATH, "next": NEXT_NAME, "prev": PREV_NAME, "journal": JOURNAL_NAME,
                   "armed": ARMED_NAME, "watchdog": WATCHDOG_NAME, "hb_paths": " ".join(HEARTBEAT_PATHS), "hb_words": ", ".join(HEARTBEAT_PATHS)}
    return SCRIPT_HEADER + SH + f"R={quote(root) if root else ''}\n" + body


def _heredoc(data: bytes, eof: str) -> str:
    text = data.decode("utf-8", "surrogateescape")
    if not text.endswith("\n"):
        text += "\n"
    if any(line == eof for line in text.splitlines()):
        raise ValueError("content holds the here-document delimiter")
    return f"<<'{eof}'\n{text}{eof}\n"


def inspect_script(root: str = "", extra_files: Sequence[str] = ()) -> str:
    """Read-only: who the node is, heartbeat's state, authkeys (bytes, mode, owner, mtime),
    ha.cf (bytes, mtime and ctime: epoch and local time), the heartbeat master's start (``/proc``,
    ``ps -o lstart=``), the journal, backups, leftovers, the cluster-glue version."""
    dumps = "".join(f"  dump {quote('extra:' + p)} {quote(p)}\n" for p in extra_files)
    cl = " ".join(CL_STATUS_PATHS)
    return _lib(root) + f"""
main() {{
  say uname "$(uname -n)"
  say now "$(date +%s)"
  hb=$(find_hb) && say heartbeat "$hb"
  say ak_stat "$(stat -c '%a %u %g %Y %s' "$AK" 2>/dev/null)"
  say hacf_mtime "$(mtime "$HA/ha.cf")"
  say now_local "$(date '+%Y-%m-%d %H:%M:%S')"
  say hacf_stat "$(stat -c '%Y %Z' "$HA/ha.cf" 2>/dev/null)"
  say hacf_mtime_local "$(stat -c %y "$HA/ha.cf" 2>/dev/null)"
  say hacf_ctime_local "$(stat -c %z "$HA/ha.cf" 2>/dev/null)"
  dump authkeys "$AK"
  dump hacf "$HA/ha.cf"
  dump journal "$J"
  for f in "$HA"/authkeys.hadoctor-*; do [ -f "$f" ] && say backup "$f"; done
  for f in "$NEXT" "$PREV"; do [ -e "$f" ] && say leftover "$f"; done
  for a in "$ARM" "$ARM.confirmed"; do [ -f "$a" ] && say armed "$(head -n 1 "$a" 2>/dev/null)"; done
  [ -d "$ST" ] && say state_dir yes
  g=$( (dpkg-query -W -f '${{Version}}\\n' cluster-glue libplumb2 2>/dev/null; \\
        rpm -q --qf '%{{VERSION}}\\n' cluster-glue cluster-glue-libs 2>/dev/null) | grep -E '^[0-9]' | head -n 1)
  say glue "$g"
  CL=
  for c in {cl}; do if [ -x "$R$c" ]; then CL="$R$c"; break; fi; done
  if [ -n "$CL" ]; then
    say cl_status "$CL"
    "$CL" hbstatus >/dev/null 2>&1; rc=$?; say hbstatus_rc $rc
    # a stopped heartbeat answers nothing more, only slowly: ask for the nodes only when it runs
    [ $rc = 0 ] && for n in $("$CL" listnodes 2>/dev/null); do
      say nodestatus "$n $("$CL" nodestatus "$n" 2>/dev/null | head -n 1)"
    done
  fi
  for p in "$R/run/heartbeat.pid" "$R/var/run/heartbeat.pid"; do
    if [ -f "$p" ]; then
      pid=$(head -n 1 "$p" | tr -d ' \t'); say hb_pid "$pid"
      if kill -0 "$pid" 2>/dev/null; then say hb_alive yes; say hb_etime "$(ps -o etime= -p "$pid" | tr -d ' ')"; fi
      case "$pid" in
        ''|*[!0-9]*) ;;
        *) [ -r "/proc/$pid/stat" ] && say hb_stat "$(cat "/proc/$pid/stat" 2>/dev/null)"
           say btime "$(sed -n 's/^btime //p' /proc/stat 2>/dev/null)"
           say clk_tck "$(getconf CLK_TCK 2>/dev/null)"
           say hb_lstart "$(ps -o lstart= -p "$pid" 2>/dev/null)";;
      esac
      break
    fi
  done
{dumps}  say result ok
}}
main
"""


@dataclass(frozen=True)
class Watchdog:
    """Commit confirmed for a held switch (docs/fix-authkeys.md#commit-confirmed): the node arms its own
    revert ``deadline_s`` after ``go`` and puts the previous file back unless ``confirm`` comes first;
    a ``go`` more than ``stale_s`` after ``ready`` (a line delivered late by a healed connection) switches
    nothing. ``journal_reverted`` is the journal the watchdog writes when it reverts. A confirmed node
    does not commit blindly (docs/fix-authkeys.md#commit-confirmed): for ``watch_s`` past the deadline,
    when every peer has either been confirmed or reverted by itself, it reads heartbeat's log, and a
    peer's packet rejected then (a peer back on the old key) makes it revert too."""

    deadline_s: float
    stale_s: int
    journal_reverted: str
    #: after a confirm: how long past the deadline the node reads ``log_path`` for ``reject_marks`` (ERE)
    watch_s: float = 0.0
    log_path: Optional[str] = None
    reject_marks: Tuple[str, ...] = ()

    @property
    def watches(self) -> bool:
        return bool(self.watch_s > 0 and self.log_path and self.reject_marks)

    @property
    def token_s(self) -> int:
        """Seconds from ``go`` the armed token names: a re-run waits that long (the watch included)."""
        return int(self.deadline_s + (self.watch_s if self.watches else 0.0)) + 2


WATCHDOG_EOF = "HADOCTOR_WATCHDOG_EOF"


def watchdog_script(root: str, switched_sum: str, wd: Watchdog) -> str:
    """The detached process ``go`` starts (``setsid``, else ``nohup``; its own session, so neither the
    end of the ssh session nor a kill of the session's process group reaches it). After the deadline it
    takes the armed token with one ``rename`` (``confirm`` takes it the same way: exactly one of them
    wins) and, when authkeys is still the switched file, puts the previous one back with a newer mtime,
    reloads with ``heartbeat -r`` and journals it. Its argument is the session shell's pid, ended then:
    it waits for a confirmation that can no longer count."""
    whole = int(wd.deadline_s) + (0 if wd.deadline_s == int(wd.deadline_s) else 1)
    watch = ""
    if wd.watches:
        lp = quote(wd.log_path)
        marks = " ".join(f"-e {quote(m)}" for m in wd.reject_marks)
        wwhole = int(wd.watch_s) + (0 if wd.watch_s == int(wd.watch_s) else 1)
        watch = f"""  # confirmed: the peers are now confirmed or back on the old key; a rejected packet says which
  [ -f "$ARM.confirmed" ] || exit 0
  s0=$(wc -c < {lp} 2>/dev/null | tr -d ' '); case "$s0" in ''|*[!0-9]*) s0=0;; esac
  sleep {wd.watch_s:.3f} 2>/dev/null || sleep {max(1, wwhole)}
  mv -f "$ARM.confirmed" "$ARM.fired" 2>/dev/null || exit 0
  if tail -c +$((s0 + 1)) {lp} 2>/dev/null | grep -a -q -E {marks}; then revert; fi
  rm -f "$ARM.fired" "$PREV" "$WD"
"""
    return _lib(root) + f"""WAITER="${{1:-}}"
revert() {{
  if [ -f "$PREV" ] && [ "$(sum_of "$AK")" = {quote(switched_sum)} ]; then
    bump "$PREV" "$AK" && mv -f "$PREV" "$AK" && fsync "$HA"
    reload revert >/dev/null 2>&1
    journal <<'{JSON_EOF}'
{wd.journal_reverted}
{JSON_EOF}
  fi
}}
main() {{
  trap '' HUP INT PIPE
  sleep {wd.deadline_s:.3f} 2>/dev/null || sleep {max(1, whole)}
  if mv -f "$ARM" "$ARM.fired" 2>/dev/null; then
    revert
    case "$WAITER" in ''|*[!0-9]*) ;; *) kill "$WAITER" 2>/dev/null;; esac
    rm -f "$ARM.fired" "$PREV" "$WD"
    exit 0
  fi
{watch}}}
main
"""


def apply_script(root: str, content: bytes, *, journal_before: Optional[str] = None,
                 journal_after: Optional[str] = None, backup: bool = False, hold: bool = False,
                 log_path: Optional[str] = None, watchdog: Optional[Watchdog] = None) -> str:
    """Install ``content`` as authkeys: (backup,) journal, prepare, [hold: print ``ready`` and wait for
    ``go`` on stdin], commit with heartbeat's validating reload, journal. With ``backup`` the
    journal text's ``@BACKUP@`` becomes the new backup's path. With ``watchdog`` (held only), ``go``
    arms the node's own revert before the rename, says ``switched=yes`` and waits for ``confirm``."""
    if watchdog is not None and not hold:
        raise ValueError("a watchdog needs a held switch")
    want = posix_cksum(content)
    log = ""
    if log_path:
        log = f"  [ -f {quote(log_path)} ] && say log_size \"$(wc -c < {quote(log_path)} | tr -d ' ')\"\n"
    jb = ""
    if journal_before is not None:
        if backup:
            jb = (f"  sed \"s|@BACKUP@|$BACKUP|\" <<'{JSON_EOF}' | journal || fail \"cannot write the journal $J\"\n"
                  f"{journal_before}\n{JSON_EOF}\n")
        else:
            jb = f"  journal <<'{JSON_EOF}' || fail \"cannot write the journal $J\"\n{journal_before}\n{JSON_EOF}\n"
    ja = ""
    if journal_after is not None:
        ja = f"  journal <<'{JSON_EOF}' || say warning 'cannot update the journal'\n{journal_after}\n{JSON_EOF}\n"
        if backup:
            ja = (f"  sed \"s|@BACKUP@|$BACKUP|\" <<'{JSON_EOF}' | journal || say warning 'cannot update the journal'\n"
                  f"{journal_after}\n{JSON_EOF}\n")
    for text in (journal_before, journal_after):
        if text is not None and JSON_EOF in text:
            raise ValueError("journal holds the here-document delimiter")
    make_backup = "  backup\n" if backup else ""
    prep = (f"prep() {{\n{make_backup}{jb}"
            f"  prepare {quote(want)} {_heredoc(content, HEREDOC_EOF)}{log}  say ready yes\n}}\n")
    go = f"go() {{\n  commit\n{ja}  say result ok\n}}\n"
    if watchdog is not None:
        for text in (watchdog.journal_reverted,):
            if JSON_EOF in text or WATCHDOG_EOF in text:
                raise ValueError("journal holds the here-document delimiter")
        wd_text = watchdog_script(root, want, watchdog)
        if any(line == WATCHDOG_EOF for line in wd_text.splitlines()):
            raise ValueError("watchdog holds its here-document delimiter")
        arm_s = watchdog.token_s                  # the token names a deadline a re-run waits out
        prep = (f"prep() {{\n{make_backup}{jb}"
                '  for a in "$ARM" "$ARM.confirmed"; do [ -e "$a" ] || continue\n'
                '    d=$(head -n 1 "$a" 2>/dev/null); case "$d" in \'\'|*[!0-9]*) d=0;; esac\n'
                '    [ "$d" -lt "$(date +%s)" ] || fail "the revert of an earlier switch is still armed ($a): run again in a few seconds"\n'
                '    rm -f "$a"; done\n'
                '  newfile "$WD" || fail "cannot create $WD with mode 0600"\n'
                f"  cat > \"$WD\" <<'{WATCHDOG_EOF}' || fail \"cannot write $WD\"\n{wd_text}{WATCHDOG_EOF}\n"
                f"  prepare {quote(want)} {_heredoc(content, HEREDOC_EOF)}{log}"
                "  READY_AT=$(date +%s)\n  say ready yes\n}\n")
        go = ("go() {\n"
              f"  late=$(( $(date +%s) - READY_AT ))\n"
              f"  if [ \"$late\" -gt {int(watchdog.stale_s)} ]; then rm -f \"$NEXT\" \"$PREV\" \"$WD\"; "
              "fail \"go came $late s after ready (a late delivery?): nothing was switched\"; fi\n"
              f"  ( set -C; printf '%s\\n' \"$(( $(date +%s) + {arm_s} ))\" > \"$ARM\" ) 2>/dev/null "
              "|| fail \"cannot arm the revert ($ARM)\"\n"
              '  if command -v setsid >/dev/null 2>&1; then setsid sh "$WD" "$$" </dev/null >/dev/null 2>&1 &\n'
              '  else nohup sh "$WD" "$$" </dev/null >/dev/null 2>&1 &\n  fi\n'
              '  say armed_at "$(stamp)"\n'
              "  KEEP_PREV=1\n  commit\n"
              f"{ja}  say switched yes\n}}\n")
        confirm = ("confirm() {\n"
                   '  if mv -f "$ARM" "$ARM.confirmed" 2>/dev/null; then\n'
                   + ('    fsync "$ST"\n' if watchdog.watches else
                      '    rm -f "$ARM.confirmed" "$PREV" "$WD"; fsync "$ST"\n') +
                   "    say confirmed yes; say result ok\n"
                   "  else\n    say confirmed no\n"
                   '    fail "the confirmation came after the revert deadline: this node put its previous file back"\n'
                   "  fi\n}\n")
        return _lib(root) + prep + go + confirm + "prep\n"
    if hold:
        return _lib(root) + prep + go + "prep\n"
    return _lib(root) + prep + go + "prep\ngo\n"


GO = b"go\n"
CONFIRM = b"confirm\n"


def log_tail_script(path: str, offset: int, limit: int = 2 * 1024 * 1024) -> str:
    """The log's bytes from ``offset`` (from 0 when the file shrank: rotated), at most ``limit``."""
    p = quote(path)
    return SCRIPT_HEADER + SH + f"""trap '' PIPE HUP
tail_from() {{ tail -c +$(($1 + 1)) {p} | head -c {int(limit)}; }}
main() {{
  [ -f {p} ] || {{ say size -1; say result ok; return; }}
  size=$(wc -c < {p} | tr -d ' '); off={int(offset)}
  [ "$size" -ge "$off" ] || off=0
  say size "$size"; say offset "$off"
  dumpcmd log tail_from "$off"
  say result ok
}}
main
"""


def running_params_script(root: str, params: Sequence[str]) -> str:
    """Read-only: what the running heartbeat read for each directive (``cl_status hbparameter -p``; each
    call is a sign-on of a few hundred ms, so only asked of a node whose ha.cf may have changed)."""
    cl = " ".join(CL_STATUS_PATHS)
    names = " ".join(quote(p) for p in params)
    return _lib(root) + f"""
main() {{
  CL=
  for c in {cl}; do if [ -x "$R$c" ]; then CL="$R$c"; break; fi; done
  [ -n "$CL" ] && for p in {names}; do
    v=$("$CL" hbparameter -p "$p" 2>/dev/null | head -n 1); [ -n "$v" ] && say hbparam "$p $v"
  done
  say result ok
}}
main
"""


def read_marks_script(path: str, marks: Sequence[str], limit: int) -> str:
    """Read-only: the lines of the log's last ``limit`` bytes holding one of ``marks`` (fixed strings),
    the last 50 of them (heartbeat's logs hold raw bytes: ``grep -a``)."""
    p = quote(path)
    words = " ".join(f"-e {quote(m)}" for m in marks)
    return SCRIPT_HEADER + SH + f"""trap '' PIPE HUP
marked() {{ tail -c {int(limit)} {p} | grep -a -F {words} | tail -n 50; }}
main() {{
  [ -f {p} ] || {{ say size -1; say result ok; return; }}
  dumpcmd marks marked
  say result ok
}}
main
"""


def cleanup_script(root: str, journal: Optional[str] = None) -> str:
    """Remove leftovers of an interrupted run (only hadoctor's own temp names), update the journal."""
    ja = ""
    if journal is not None:
        ja = f"  journal <<'{JSON_EOF}' || say warning 'cannot update the journal'\n{journal}\n{JSON_EOF}\n"
    return _lib(root) + f"""main() {{
  rm -f "$NEXT" "$PREV" "$ST/.{JOURNAL_NAME}.tmp" "$ARM" "$ARM.fired" "$ARM.confirmed" "$WD"
{ja}  say result ok
}}
main
"""
