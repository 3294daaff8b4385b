"""Parser for heartbeat's ``/etc/ha.d/authkeys``; the key itself is kept only as a :class:`Secret`.

``auth N`` names the signing key; ``N method [key]`` lines define keys 0-15. Heartbeat
picks the active key *while* it reads: a key line becomes active only if the latest
``auth`` line seen so far names it, so ``auth`` must come before its key line.

>>> keys = parse_authkeys(b"auth 2\\n2 sha1 s3cret\\n", "authkeys", mode=0o600, salt=b"fixed")
>>> keys.active.index, keys.active.method, keys.problems
(2, 'sha1', [])
>>> keys.active.key, "s3cret" in repr(keys) + str(keys.to_dict())
(Secret(****), False)
>>> late = parse_authkeys(b"1 sha1 x\\nauth 1\\n", "authkeys")
>>> late.active_index, late.problems[0].message
(None, 'Auth Key [1] not found in keyfile [authkeys]; its key line comes before the auth line')
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple

from hadoctor.parsers.base import MAX_CONFIG_LINE, Problem, numbered_lines
from hadoctor.parsers.timespec import C_ISSPACE, C_WHITESPACE, c_strtol
from hadoctor.secrets import SESSION_SALT, Secret, fingerprint

#: Problem code: group or others may read the file (heartbeat refuses it).
BAD_MODE = "authkeys-mode"
#: method -> whether it needs a key (the HBauth plugins heartbeat ships)
METHODS = {"crc": False, "md5": True, "sha1": True}
MAX_AUTH = 16
#: method-like words that are safe to repeat in a message; anything else may be a misplaced key
_SHOWABLE_METHODS = frozenset(("sha", "sha-1", "sha224", "sha256", "sha384", "sha512", "md4", "md5sum", "crc32",
                               "hmac", "none", "plain"))
_WORD = re.compile(f"[^{re.escape(C_ISSPACE)}]+")  # what sscanf's %s reads


@dataclass
class AuthKey:
    """A loaded key. ``fingerprint`` is a keyed hash of method and key: equal on two nodes
    (under one salt) exactly when both have the same method and key."""

    index: int
    method: str
    key: Optional[Secret]
    line: int
    fingerprint: Optional[str] = None

    def to_dict(self) -> dict:
        return {"index": self.index, "method": self.method, "line": self.line, "fingerprint": self.fingerprint,
                "has_key": self.key is not None, "key_length": len(self.key) if self.key is not None else 0}


@dataclass
class Authkeys:
    """A parsed authkeys file. ``active_index`` is the key heartbeat signs with (None: it refuses to start)."""

    path: str
    auth_lines: List[Tuple[int, int]] = field(default_factory=list)  # (index named, line)
    keys: Dict[int, AuthKey] = field(default_factory=dict)
    active_index: Optional[int] = None
    mode: Optional[int] = None
    owner: Optional[str] = None
    group: Optional[str] = None
    problems: List[Problem] = field(default_factory=list)

    @property
    def active(self) -> Optional[AuthKey]:
        return self.keys.get(self.active_index) if self.active_index is not None else None

    def to_dict(self) -> dict:
        return {"path": self.path, "auth_lines": [{"index": i, "line": n} for i, n in self.auth_lines],
                "keys": [k.to_dict() for k in self.keys.values()], "active_index": self.active_index,
                "mode": None if self.mode is None else f"{self.mode & 0o7777:04o}",
                "owner": self.owner, "group": self.group, "problems": [asdict(p) for p in self.problems]}


def parse_authkeys(data: bytes, path: str = "authkeys", *, mode: Optional[int] = None,
                   owner: Optional[str] = None, group: Optional[str] = None,
                   salt: bytes = SESSION_SALT) -> Authkeys:
    """Parse authkeys bytes the way heartbeat's ``parse_authfile`` does; never raises.

    ``mode`` (st_mode or its permission bits), ``owner`` and ``group`` come from the
    file's metadata when known. Problem messages use heartbeat's wording; they never
    contain a key.
    """
    result = Authkeys(path, mode=mode, owner=owner, group=group)

    def problem(line: int, message: str, text: str = "", severity: str = "error", *, code: str) -> None:
        result.problems.append(Problem(path, line, message, text, severity, code))

    if mode is not None and mode & 0o044:
        problem(0, f"Bad permissions on keyfile [{path}], 600 recommended.", code=BAD_MODE)
    authnum = -1
    for number, text in numbered_lines(data):
        if len(text) > MAX_CONFIG_LINE:
            problem(number, f"line longer than {MAX_CONFIG_LINE} characters; not read", code="line-too-long")
            continue
        bp = text.split("\0", 1)[0].lstrip(C_WHITESPACE)
        if not bp or bp[0] == "#":
            continue
        if bp[0] == "a":
            value = c_strtol(bp[4:])[0] if bp.startswith("auth") else None
            if value is None:
                problem(number, f"Invalid auth line [{_masked(bp)}] in {path}", code="authkeys-bad-auth-line")
            else:
                authnum = value
                result.auth_lines.append((value, number))
            continue
        index, rest = c_strtol(bp)
        words = _WORD.findall(rest, 0) if index is not None else []
        if index is None or not words:
            problem(number, f"Auth line [{_masked(bp)}] is invalid.", code="authkeys-bad-auth-line")
            continue
        method = words[0]
        key = words[1] if len(words) > 1 else None
        if not 0 <= index < MAX_AUTH:
            problem(number, f"Invalid authnum [{index}] in {path}", code="authkeys-bad-index")
            continue
        if method not in METHODS:
            shown = method if method.lower() in METHODS or method.lower() in _SHOWABLE_METHODS else "****"
            problem(number, f"Invalid authtype [{shown}]; heartbeat knows crc, md5 and sha1", code="authkeys-bad-method")
            continue
        if key is not None and not METHODS[method]:
            hint = " (a '#' there is no comment: it is read as a key)" if key.startswith("#") else ""
            problem(number, f"Auth method [{method}] doesn't use a key{hint}", code="authkeys-key-unused")
            continue
        if key is None and METHODS[method]:
            problem(number, f"Auth method [{method}] requires a key", code="authkeys-no-key")
            continue
        if len(words) > 2 and not words[2].startswith("#"):
            quoted = " (quotes are not special: they are part of the key)" if key and key[0] in "\"'" else ""
            problem(number, f"key [{index}]: {len(words) - 2} more word(s) after the key are ignored; heartbeat "
                            f"uses only the first word as the key{quoted}", "", "warning", code="authkeys-extra-words")
        if index in result.keys:
            problem(number, f"key [{index}] defined again (first on line {result.keys[index].line}); "
                            "heartbeat keeps this one", "", "warning", code="authkeys-duplicate-key")
        secret = Secret(key) if key is not None else None
        result.keys[index] = AuthKey(index, method, secret, number, fingerprint(f"{method}:{key or ''}", salt))
        if index == authnum:
            result.active_index = index
    _check_active(result, authnum, problem)
    return result


def _check_active(result: Authkeys, authnum: int, problem) -> None:
    if len(result.auth_lines) > 1:
        lines = ", ".join(str(n) for _, n in result.auth_lines)
        signs = f"signs with key {result.active_index}" if result.active_index is not None else "finds no key"
        problem(result.auth_lines[1][1], f"{len(result.auth_lines)} auth lines (lines {lines}): heartbeat {signs}; "
                                         "keep exactly one auth line, before the key lines", "", "warning", code="authkeys-many-auth-lines")
    if result.active_index is not None:
        return
    if authnum < 0:
        problem(0, f"Missing auth directive in keyfile [{result.path}]", code="authkeys-no-auth-line")
        return
    last_line = max(n for i, n in result.auth_lines if i == authnum)
    message = f"Auth Key [{authnum}] not found in keyfile [{result.path}]"
    key = result.keys.get(authnum)
    if key is not None and key.line < last_line:
        message += "; its key line comes before the auth line"
    problem(last_line, message, code="authkeys-key-not-found")


def _masked(text: str) -> str:
    """A malformed line may still hold a key: show its first word only if it is an index or a keyword."""
    words = text.split(None, 1)
    first = words[0] if words else ""
    safe = re.fullmatch(r"[+-]?[0-9]{1,2}", first) or first.lower() == "auth" or first in METHODS
    return (first if safe else "****") + (" ****" if len(words) > 1 else "")


def parse_stat_line(text: str) -> Tuple[int, Optional[str], Optional[str]]:
    """``stat -c '%a %U %G'`` output (``600 root root``; ``0600`` and ``-rw-------`` too).

    Raises ValueError when the text holds no mode.

    >>> parse_stat_line("600 root root\\n"), parse_stat_line("-rw-r----- root haclient")
    ((384, 'root', 'root'), (416, 'root', 'haclient'))
    """
    words = text.split()
    if not words:
        raise ValueError("empty stat line")
    word = words[0]
    if re.fullmatch(r"[0-7]{1,5}", word):
        mode = int(word, 8)
    elif re.fullmatch(r"[-dlcbps][-rwxsStT]{9}\.?\+?", word):
        mode = _symbolic_mode(word[1:10])
    else:
        raise ValueError(f"not a file mode: {word[:20]!r}")
    owner = words[1] if len(words) > 1 else None
    group = words[2] if len(words) > 2 else None
    return mode & 0o7777, owner, group


def _symbolic_mode(perms: str) -> int:
    mode = 0
    for position, char in enumerate(perms):
        bit = 1 << (8 - position)
        if char in "rwxst":
            mode |= bit
    specials = ((2, 0o4000), (5, 0o2000), (8, 0o1000))
    for position, bit in specials:
        if perms[position] in "sStT":
            mode |= bit
    return mode
