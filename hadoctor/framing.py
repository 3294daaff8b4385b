"""The one framing protocol of the sh scripts hadoctor runs on nodes (bundle, drill, fix), and its parser.

A node script defines :data:`SH` (POSIX sh, coreutils' ``od``) and prints on its standard output:

``key=value``
    one value (``say KEY VALUE``); a key may repeat. Values are one line: anything longer goes in a frame.
``@file NAME`` ... ``@end [STATUS]``
    a frame: the bytes of NAME as ``od -An -v -tx1`` hex lines (``dumpcmd NAME CMD...``: a command's
    standard output; ``dump NAME PATH``: a file). STATUS is the command's exit code, or ``missing`` or
    ``unreadable`` for a file that is not there or not readable (then no hex lines).

Hex keeps every byte of a file (a key, a CR, a NUL, a line ``@end`` in the file) from ever reading as a
frame line, and the frame's end from hiding in the data. Anything else on stdout (a login banner, a
shell's noise) is ignored, and so is a last line without its newline (``rc=1`` may be ``rc=12`` cut). The parser takes what a node sends as hostile: a frame cut short, a line that
is not hex, a frame or output too big give an :class:`Output` with ``problems``, never an exception,
in time linear in the output.

>>> out = parse_output(b"a=1\\nb=x=y\\na=2\\n@file authkeys\\n 61 75\\n 74 68\\n@end 0\\n@file lock\\n@end missing\\n")
>>> out.get("a"), out.all("a"), out.get("b"), out.files["authkeys"], out.status["lock"], "lock" in out.files
('2', ['1', '2'], 'x=y', b'auth', 'missing', False)
>>> parse_output(b"@file log\\n 61 62\\n").problems
['frame log: the output ended inside it (truncated); not kept']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

#: The node side of the protocol; a script puts it before its own functions.
SH = r"""say() { printf '%s=%s\n' "$1" "$2" 2>/dev/null; return 0; }
dumpcmd() {
  _fn=$1; shift
  printf '@file %s\n' "$_fn"
  { _frc=$( { { "$@" 3>&- 4>&-; printf '%s' "$?" >&4; } | od -An -v -tx1 >&3; } 4>&1 ); } 3>&1
  printf '@end %s\n' "$_frc"
}
dump() {
  if [ -f "$2" ] && [ -r "$2" ]; then dumpcmd "$1" cat "$2"
  elif [ -e "$2" ]; then printf '@file %s\n@end unreadable\n' "$1"
  else printf '@file %s\n@end missing\n' "$1"; fi
}
"""

#: Frame statuses for a file that is not there / not readable (a command's status is its exit code).
MISSING = "missing"
UNREADABLE = "unreadable"
#: Statuses the parser gives a frame it could not read whole (its bytes are not kept).
TRUNCATED = "truncated"
CORRUPT = "corrupt"
TOO_BIG = "too big"

#: The largest frame kept (decoded bytes); bigger ones are dropped with a problem. Node scripts send
#: configuration files and log tails, far below this.
MAX_FRAME = 64 << 20
#: Lines outside frames longer than this are not read as values.
MAX_VALUE_LINE = 1 << 20

_KEY = re.compile(r"[a-z_][a-z0-9_]*")
_HEX = re.compile(rb"[0-9a-f ]*")


@dataclass
class Output:
    """What a node script printed: values (repeatable keys) and frames (name -> bytes, with a status)."""

    values: Dict[str, List[str]] = field(default_factory=dict)
    files: Dict[str, bytes] = field(default_factory=dict)  # frames read whole (not missing/unreadable)
    status: Dict[str, str] = field(default_factory=dict)  # every frame: exit code, MISSING, TRUNCATED, ...
    problems: List[str] = field(default_factory=list)  # what could not be read, said once per frame

    def get(self, key: str, default: Optional[str] = None) -> Optional[str]:
        v = self.values.get(key)
        return v[-1] if v else default

    def all(self, key: str) -> List[str]:
        return list(self.values.get(key, []))

    @property
    def ok(self) -> bool:
        return self.get("result") == "ok"


def parse_output(data: bytes, *, max_frame: int = MAX_FRAME) -> Output:
    """Read a node script's output; never raises (see the module's docstring)."""
    out = Output()
    name: Optional[str] = None
    hexes: List[bytes] = []
    size = 0  # hex digits of the frame so far
    bad = ""  # why the frame being read is not kept
    lines = data.split(b"\n")
    tail = lines.pop()  # every line a script prints ends with a newline: text after the last one was cut
    for raw in lines:
        if name is not None:
            if raw.startswith(b"@"):
                if raw == b"@end" or raw.startswith(b"@end "):
                    _close(out, name, hexes, bad, raw[5:].decode("utf-8", "replace").strip())
                    name, hexes, size, bad = None, [], 0, ""
                    continue
                _close(out, name, [], TRUNCATED, "")  # a new frame before this one's end
                name, hexes, size, bad = None, [], 0, ""
            elif not bad:
                if not _HEX.fullmatch(raw):
                    bad = CORRUPT
                    hexes = []
                    continue
                piece = raw.replace(b" ", b"")
                size += len(piece)
                if size > 2 * max_frame:
                    bad = TOO_BIG
                    hexes = []
                    continue
                hexes.append(piece)
                continue
            else:
                continue
        if raw.startswith(b"@file "):
            name = raw[6:].decode("utf-8", "replace").rstrip("\r")
            continue
        if len(raw) > MAX_VALUE_LINE or b"=" not in raw:
            continue
        key, value = raw.decode("utf-8", "replace").split("=", 1)
        if _KEY.fullmatch(key):
            out.values.setdefault(key, []).append(value)
    if name is not None:
        _close(out, name, [], TRUNCATED, "")
    elif tail:
        out.problems.append("the last line has no newline (the output was cut); not read")
    return out


_WHY = {TRUNCATED: "the output ended inside it (truncated)", CORRUPT: "a line in it is not hex (garbled)",
        TOO_BIG: f"it is over {MAX_FRAME >> 20} MiB"}


def _close(out: Output, name: str, hexes: List[bytes], bad: str, status: str) -> None:
    out.files.pop(name, None)  # a frame sent twice: the last one counts
    if not bad:
        digits = b"".join(hexes)
        if len(digits) % 2:
            bad = CORRUPT
        elif status not in (MISSING, UNREADABLE):
            out.files[name] = bytes.fromhex(digits.decode("ascii"))
    if bad:
        out.problems.append(f"frame {name}: {_WHY[bad]}; not kept")
    out.status[name] = bad or status
