"""What a bundle masks in every text file it collects, and the last-line scrub of known secrets.

* ha.cf: every ``stonith_host`` parameter after the device type (logins, passwords, addresses
  of fencing devices), as hb_report does;
* service configs (Asterisk/MOR ``key = value`` files): every value whose key looks like a
  secret (``secret``, ``md5secret``, ``password``, ``db_pass``, ``pwd``, ``token``, ``*key``);
* any text (logs, command output, service configs): credentials by their shape
  (:data:`CREDENTIAL_FORMS`): Asterisk ``register =>`` secrets, ``scheme://user:password@host``,
  ``password=``/``passwd:``/``secret=``/``md5secret=``/``pwd=``/``db_pass=`` values (MySQL's
  ``password = ...`` in my.cnf too);
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
from typing import Iterable, Iterator, List, Set, Tuple

MASK = b"****"
#: secrets shorter than this are masked where they stand but not scrubbed everywhere (a one-letter
#: "secret" would otherwise blank every 'a' in the logs)
MIN_SCRUB = 4

_STONITH_HOST = re.compile(rb"^([ \t]*stonith_host[ \t]+\S+[ \t]+\S+)([ \t]+.*?)?(\r?)$", re.MULTILINE)
# key, separator, value up to a ';' comment, the comment: one greedy reading, so linear on any line
_CONF_LINE = re.compile(rb"^([ \t]*([A-Za-z0-9_.\-]+)[ \t]*=>?[ \t]*)([^;\r\n]*)((?:;[^\r\n]*)?)(\r?)$",
                        re.MULTILINE)
_CONF_SECRET_KEY = re.compile(rb"(secret|passw|password|pass|passwd|md5secret|pwd|token|key)$", re.IGNORECASE)

#: Credentials recognised by their SHAPE, in any text file (logs, command output, service configs):
#: name and a bytes regex whose group 1 is the secret. bundle create masks them (mask_text), bundle
#: verify reports any left in clear (credential_forms): one definition for both. Values are not length
#: capped (a capped value would leave its tail in clear); each form starts at a line start or at its
#: keyword and a value ends at its delimiter, so a search stays linear (tests/fuzz/test_linear.py).
CREDENTIAL_FORMS: Tuple[Tuple[str, "re.Pattern[bytes]"], ...] = (
    # Asterisk sip.conf/iax.conf: register => [transport://]user[:secret[:authuser]]@host[:port][/ext]
    ("an Asterisk register => line's secret", re.compile(
        rb"(?im)^[ \t]*register[ \t]*=>?[ \t]*(?:[a-z]{1,10}://)?[^\s:@/;]*:([^\s@;]+)@")),
    # scheme://user:password@host (database and SIP URLs, dsn= lines)
    ("a password in a URL (scheme://user:password@host)", re.compile(
        rb"(?i)\b[a-z][a-z0-9+.-]{0,15}://[^\s:@/]*:([^\s@/]+)@")),
    # password=..., secret: ..., md5secret=..., MySQL my.cnf 'password = ...' (quoted or not)
    ("a password-like key's value (password=, secret=, md5secret=, pwd=)", re.compile(
        rb"(?i)\b(?:(?:md5)?secret|passw(?:or)?d|passwort|pwd|db_?pass)[ \t]*(?:=>?|:)[ \t]*"
        rb"(\"[^\"\r\n]+\"|'[^'\r\n]+'|[^\s,;&]+)")),
)


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
        value = m.group(3).rstrip(b" \t")
        if not value or not _CONF_SECRET_KEY.search(m.group(2)) or value == MASK:
            return m.group(0)
        found.add(value.decode("utf-8", "surrogateescape"))
        return m.group(1) + MASK + m.group(3)[len(value):] + m.group(4) + m.group(5)

    out = _CONF_LINE.sub(repl, data)
    masked, more = mask_text(out)
    return masked, found | more


def mask_text(data: bytes) -> Tuple[bytes, Set[str]]:
    """Mask every :data:`CREDENTIAL_FORMS` value anywhere in free text (logs, command output, configs).

    >>> mask_text(b"register => 1001:S3cret:1001@sip.example.net/1001\\nurl=mysql://mor:pw9@db/mor\\n")[0]
    b'register => 1001:****@sip.example.net/1001\\nurl=mysql://mor:****@db/mor\\n'
    """
    found: Set[str] = set()

    def repl(m: re.Match) -> bytes:
        value = m.group(1)
        quote = value[:1] if value[:1] in (b'"', b"'") and value[-1:] == value[:1] and len(value) > 1 else b""
        inner = value[1:-1] if quote else value
        if not inner or _is_masked(inner):
            return m.group(0)
        found.add(inner.decode("utf-8", "surrogateescape"))
        whole, at = m.group(0), m.start(0)
        return whole[:m.start(1) - at] + quote + MASK + quote + whole[m.end(1) - at:]

    for _, rx in CREDENTIAL_FORMS:
        data = rx.sub(repl, data)
    return data, found


def _is_masked(value: bytes) -> bool:
    return not value.strip(b"*")


def credential_forms(data: bytes, start: int = 0, end: int = -1) -> Iterator[Tuple[int, str]]:
    """``(offset, what)`` of every credential in clear (not ``****``) starting in ``data[start:end]``.

    >>> list(credential_forms(b"host=x\\nregister => bob:hunter22@pbx\\nsecret = ****\\n"))
    [(7, "an Asterisk register => line's secret")]
    """
    end = len(data) if end < 0 else end
    for what, rx in CREDENTIAL_FORMS:
        for m in rx.finditer(data, start):
            if m.start() >= end:
                break
            value = m.group(1)
            if value[:1] in (b'"', b"'") and value[-1:] == value[:1] and len(value) > 1:
                value = value[1:-1]
            if not _is_masked(value):
                yield m.start(), what


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
