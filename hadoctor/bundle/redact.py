"""What a bundle masks in every text file it collects, and the last-line scrub of known secrets.

* ha.cf: every ``stonith_host`` parameter after the device type (logins, passwords, addresses
  of fencing devices), as hb_report does;
* service configs (Asterisk/MOR ``key = value`` files): every value whose key looks like a
  secret (``secret``, ``md5secret``, ``password``, ``db_pass``, ``pwd``, ``token``, ``*key``);
* any text (logs, command output): ``password=...``, ``passwd: ...``, ``secret=...``,
  ``md5secret=...``, ``pwd=...`` values;
* :func:`scrub`: every occurrence of a secret the collector has seen (authkeys keys, the values
  masked above), in every member, as a safety net.

>>> out, found = mask_hacf(b"node a\\nstonith_host * external/ipmi a 10.0.0.9 admin S3cr3t lan\\n")
>>> out.decode().splitlines()[1], sorted(found)
('stonith_host * external/ipmi **** **** **** **** ****', ['10.0.0.9', 'S3cr3t', 'a', 'admin', 'lan'])
>>> mask_conf(b"[100]\\nsecret = hunter2 ; sip\\nhost=dynamic\\n")[0].decode()
'[100]\\nsecret = **** ; sip\\nhost=dynamic\\n'
>>> mask_text(b"login ok user=bob password=pa55w0rd\\n")[0]
b'login ok user=bob password=****\\n'
"""

from __future__ import annotations

import re
from typing import Iterable, List, Set, Tuple

MASK = b"****"
#: secrets shorter than this are masked where they stand but not scrubbed everywhere (a one-letter
#: "secret" would otherwise blank every 'a' in the logs)
MIN_SCRUB = 4

_STONITH_HOST = re.compile(rb"^([ \t]*stonith_host[ \t]+\S+[ \t]+\S+)([ \t]+.*?)?(\r?)$", re.MULTILINE)
_CONF_LINE = re.compile(rb"^([ \t]*([A-Za-z0-9_.\-]+)[ \t]*=>?[ \t]*)([^;\r\n]*?)([ \t]*(?:;.*)?)(\r?)$",
                        re.MULTILINE)
_CONF_SECRET_KEY = re.compile(rb"(secret|passw|password|pass|passwd|md5secret|pwd|token|key)$", re.IGNORECASE)
_TEXT_SECRET = re.compile(rb"(?i)\b((?:md5)?secret|passw(?:or)?d|passwort|pwd|db_pass|dbpass)"
                          rb"([ \t]*(?:=>?|:)[ \t]*)(\"[^\"\r\n]*\"|'[^'\r\n]*'|[^\s,;&]+)")


def mask_hacf(data: bytes) -> Tuple[bytes, Set[str]]:
    """Mask ``stonith_host`` parameters (everything after ``stonith_host HOST TYPE``)."""
    found: Set[str] = set()

    def repl(m: re.Match) -> bytes:
        params = (m.group(2) or b"").split()
        found.update(p.decode("utf-8", "surrogateescape") for p in params)
        return m.group(1) + b"".join(b" " + MASK for _ in params) + m.group(3)

    out = _STONITH_HOST.sub(repl, data)
    masked, more = mask_text(out)
    return masked, found | more


def mask_conf(data: bytes) -> Tuple[bytes, Set[str]]:
    """Mask secret-looking ``key = value`` values of an INI-like file (Asterisk, MOR), then free text."""
    found: Set[str] = set()

    def repl(m: re.Match) -> bytes:
        value = m.group(3)
        if not value or not _CONF_SECRET_KEY.search(m.group(2)) or value == MASK:
            return m.group(0)
        found.add(value.decode("utf-8", "surrogateescape"))
        return m.group(1) + MASK + m.group(4) + m.group(5)

    out = _CONF_LINE.sub(repl, data)
    masked, more = mask_text(out)
    return masked, found | more


def mask_text(data: bytes) -> Tuple[bytes, Set[str]]:
    """Mask ``password=...``-like values anywhere in free text (logs, command output)."""
    found: Set[str] = set()

    def repl(m: re.Match) -> bytes:
        value = m.group(3)
        inner = value[1:-1] if value[:1] in (b'"', b"'") else value
        if not inner or inner == MASK:
            return m.group(0)
        found.add(inner.decode("utf-8", "surrogateescape"))
        quote = value[:1] if value[:1] in (b'"', b"'") else b""
        return m.group(1) + m.group(2) + quote + MASK + quote

    return _TEXT_SECRET.sub(repl, data), found


def scrub(data: bytes, secrets: Iterable[bytes]) -> Tuple[bytes, int]:
    """Replace every occurrence of each secret (bytes, at least MIN_SCRUB long) with ``****``."""
    count = 0
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) < MIN_SCRUB or secret == MASK:
            continue
        n = data.count(secret)
        if n:
            count += n
            data = data.replace(secret, MASK)
    return data, count


def scrub_set(values: Iterable[str]) -> List[bytes]:
    """The byte forms of secrets worth scrubbing everywhere."""
    out = []
    for v in values:
        b = v.encode("utf-8", "surrogateescape")
        if len(b) >= MIN_SCRUB and b != MASK:
            out.append(b)
    return out
