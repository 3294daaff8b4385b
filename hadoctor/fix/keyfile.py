"""The authkeys files a rotation writes: new key, the three stages, validation, masking, checksums.

A rotation from active key ``O`` to a new key ``N`` goes through three files
(docs/heartbeat/authkeys.md#line-order, docs/heartbeat/authkeys.md#which-key-signs-and-which-verifies):

* **staged**: ``auth O`` then the old key line and the new key line: heartbeat still signs with
  the old key, and on classic-wire clusters it already accepts packets signed with the new one;
* **switched**: ``auth N`` then both key lines (``auth`` must come before its key line: heartbeat
  picks the active key while it reads);
* **final**: ``auth N`` and the new key line only.

Every file is checked with hadoctor's own parser (which follows heartbeat's order semantics)
before it is sent anywhere: exactly the expected active index, method and key, no problem at
all. Keys never appear in a repr, a plan or a diff: :func:`masked_lines` shows ``****``, the
key length and a keyed fingerprint.

>>> new = NewKey.generate(used={1})
>>> new.index, new.method, len(new.secret)
(2, 'sha1', 64)
>>> from hadoctor.parsers.authkeys import parse_authkeys
>>> old = parse_authkeys(b"auth 1\\n1 sha1 oldsecret\\n").active
>>> text = build(old, new, "switched", note="run x")
>>> [line.split()[:2] for line in text.decode().splitlines()[1:]]
[['auth', '2'], ['1', 'sha1'], ['2', 'sha1']]
>>> "oldsecret" in "\\n".join(masked_lines(text))
False
"""

from __future__ import annotations

import difflib
import secrets
from dataclasses import dataclass
from typing import Iterable, List, Optional

from hadoctor.parsers.authkeys import BAD_MODE, MAX_AUTH, AuthKey, Authkeys, parse_authkeys
from hadoctor.secrets import Secret, fingerprint

#: random bytes in a new key (hex-encoded: twice as many characters; 64 characters is also
#: HMAC-SHA1's block size, so the key is used as is and not hashed first)
KEY_BYTES = 32
NEW_METHOD = "sha1"
STAGES = ("staged", "switched", "final")
#: here-document delimiter the node scripts use for file contents; no generated line equals it
HEREDOC_EOF = "HADOCTOR_AUTHKEYS_EOF"


class KeyFileError(ValueError):
    """A generated file failed validation (a bug, or an old key heartbeat itself would refuse)."""


@dataclass(frozen=True)
class NewKey:
    index: int
    method: str
    secret: Secret

    @classmethod
    def generate(cls, used: Iterable[int] = (), avoid: Iterable[int] = ()) -> "NewKey":
        """A fresh sha1 key from the OS's secure random source, at the lowest index 1-15 that no node
        uses (0 is valid for heartbeat but the man page says 1-15, so it is the last resort)."""
        taken = set(used) | set(avoid)
        for index in list(range(1, MAX_AUTH)) + [0]:
            if index not in taken:
                return cls(index, NEW_METHOD, Secret(secrets.token_hex(KEY_BYTES)))
        raise KeyFileError("every key index 0-15 is in use on some node; remove unused key lines first")

    def as_authkey(self) -> AuthKey:
        return AuthKey(self.index, self.method, self.secret, 0)


def key_line(key: AuthKey) -> str:
    if key.key is None:
        return f"{key.index} {key.method}"
    return f"{key.index} {key.method} {key.key.reveal()}"


def build(old: AuthKey, new: NewKey, stage: str, note: str = "") -> bytes:
    """The file for one stage (see the module docstring), validated."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    if old.index == new.index:
        raise KeyFileError(f"the new key index {new.index} equals the old active index")
    header = "# heartbeat authentication keys (mode 0600, identical on every node): written by " \
             f"hadoctor fix --authkeys{', ' + note if note else ''}, stage {stage}"
    lines = [header]
    if stage == "staged":
        lines += [f"auth {old.index}", key_line(old), key_line(new.as_authkey())]
        expect = (old.index, old.method, old.key)
    elif stage == "switched":
        lines += [f"auth {new.index}", key_line(old), key_line(new.as_authkey())]
        expect = (new.index, new.method, new.secret)
    else:
        lines += [f"auth {new.index}", key_line(new.as_authkey())]
        expect = (new.index, new.method, new.secret)
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
    validate(data, *expect, listed={old.index, new.index} if stage != "final" else {new.index})
    return data


def validate(data: bytes, index: int, method: str, key: Optional[Secret], *,
             listed: Optional[set] = None) -> Authkeys:
    """Parse ``data`` as heartbeat would and insist on the expected active key and nothing odd."""
    parsed = parse_authkeys(data, "authkeys", mode=0o600)
    if parsed.problems:
        raise KeyFileError("generated authkeys has problems: " + "; ".join(p.message for p in parsed.problems))
    active = parsed.active
    if active is None or active.index != index or active.method != method or active.key != key:
        raise KeyFileError(f"generated authkeys does not sign with key {index} ({method})")
    if listed is not None and set(parsed.keys) != set(listed):
        raise KeyFileError(f"generated authkeys lists keys {sorted(parsed.keys)}, expected {sorted(listed)}")
    if any(line.strip() == HEREDOC_EOF for line in data.decode("utf-8", "replace").splitlines()):
        raise KeyFileError("a line of the file equals the transfer delimiter")
    if b"\0" in data:
        raise KeyFileError("the file holds a NUL byte")
    return parsed


def usable_old_key(parsed: Authkeys) -> AuthKey:
    """The active key of a node's current file, or why a rotation cannot start from it."""
    errors = [p for p in parsed.problems if p.severity == "error" and p.code != BAD_MODE]
    if errors:
        raise KeyFileError(f"{parsed.path}: heartbeat would refuse it: {errors[0].message}")
    if parsed.active is None:
        raise KeyFileError(f"{parsed.path}: no active key")
    key = parsed.active
    if key.key is not None and any(c.isspace() or c == "\0" for c in key.key.reveal()):
        raise KeyFileError(f"{parsed.path}: the active key holds whitespace")
    return key


def masked_lines(data: bytes, salt: Optional[bytes] = None) -> List[str]:
    """The file's lines with every key replaced by ``****`` (its length and fingerprint kept), for
    plans and diffs. Comments and ``auth`` lines are shown as they are."""
    out = []
    for raw in data.decode("utf-8", "surrogateescape").splitlines():
        words = raw.split()
        if len(words) >= 3 and words[0].lstrip("+-").isdigit():
            fp = fingerprint(f"{words[1]}:{words[2]}", salt) if salt is not None else fingerprint(f"{words[1]}:{words[2]}")
            out.append(f"{words[0]} {words[1]} **** ({len(words[2])} chars, {fp})"
                       + (" [+more words]" if len(words) > 3 else ""))
        elif len(words) >= 2 and not words[0].startswith("#") and not words[0].startswith("a") \
                and not words[0].lstrip("+-").isdigit():
            out.append("****")   # a junk line may be a misplaced key
        else:
            out.append(raw)
    return out


def masked_diff(old: bytes, new: bytes, path: str, salt: Optional[bytes] = None) -> List[str]:
    """A unified diff of two authkeys files with every key masked (same key -> same mask)."""
    return list(difflib.unified_diff(masked_lines(old, salt), masked_lines(new, salt), f"{path} (now)",
                                     f"{path} (after)", lineterm=""))


def posix_cksum(data: bytes) -> str:
    """``cksum < FILE`` output (``CRC SIZE``), to check on the node that a file arrived intact.

    >>> posix_cksum(b"123456789")
    '930766865 9'
    """
    from hadoctor.wire.digest import CRC_TABLE

    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ CRC_TABLE[((crc >> 24) ^ byte) & 0xFF]
    length = len(data)
    while length:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ CRC_TABLE[((crc >> 24) ^ (length & 0xFF)) & 0xFF]
        length >>= 8
    return f"{~crc & 0xFFFFFFFF} {len(data)}"
