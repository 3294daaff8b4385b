"""What every parser shares: problems with a location, and text decoding.

Parsers are pure: bytes in, typed model out. They never raise on bad input;
whatever they cannot understand becomes a :class:`Problem` that names the file
and the line (1-based; 0 means "the file as a whole").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterator, Optional, Tuple

#: The longest line a config parser looks at; longer lines become a problem.
MAX_CONFIG_LINE = 64 * 1024
#: The most digits :func:`to_int` turns into a number. No pid, port, index or version part needs
#: more, and Python refuses to convert over 4,300 digits (a ValueError that would be a traceback).
MAX_DIGITS = 64
#: Problems reported for one line at most; a line of 30,000 bad words gets one more saying so, not 30,000.
MAX_PROBLEMS_PER_LINE = 10
_BASE_DIGITS = {2: frozenset("01"), 8: frozenset("01234567"), 10: frozenset("0123456789"),
                16: frozenset("0123456789abcdefABCDEF")}


#: Problems past MAX_PROBLEMS_PER_LINE on one line are summed up by one problem of this code.
TOO_MANY = "too-many-problems"

#: Every kind of problem a parser reports: its stable code (as shellcheck's SC codes: stable across wording
#: changes; a prefix names the parser, none means any parser) and what it means. docs/parser-problems.md lists
#: them (tests/parsers/test_problem_codes.py keeps both, and every parser, in step).
PROBLEM_CODES: Dict[str, str] = {
    # any parser
    "line-too-long": "a line longer than the parser reads; skipped",
    TOO_MANY: "more problems on one line than are listed",
    "unrendered-template": "the file still holds Jinja/ERB markers: a template, not the installed file",
    "nul-bytes": "a line holding NUL bytes; skipped",
    "bundle-uncoded": "a problem read back from a bundle made before problems had codes",
    # ha.cf (hadoctor/parsers/hacf.py)
    "hacf-bad-time": "a time value heartbeat refuses (syntax, unit, or not above 0)",
    "hacf-obsolete": "an obsolete directive heartbeat still reads (udp, nice_failback)",
    "hacf-unbuilt-medium": "a media plugin Debian and RHEL do not build",
    "hacf-unknown-directive": "a directive heartbeat does not know (it refuses to start)",
    "hacf-no-value": "a directive without its value; heartbeat ignores the line",
    "hacf-bad-bool": "a value that is not one of heartbeat's booleans",
    "hacf-bad-choice": "a value outside the directive's fixed set (auto_failback, logfacility, baud...)",
    "hacf-bad-number": "a number outside the directive's range",
    "hacf-number-tail": "a number followed by text heartbeat ignores (atoi)",
    "hacf-port-range": "a udpport above 65535 (the plugins use it modulo 65536)",
    "hacf-after-pacemaker": "a directive that must come before the pacemaker/crm directive",
    "hacf-too-many": "more nodes or media than heartbeat allows",
    "hacf-duplicate": "a directive or node given twice where heartbeat allows one",
    "hacf-bad-env": "an env directive that is not NAME=value",
    "hacf-bad-command": "a respawn/apiauth child command without a user or a full path",
    "hacf-bad-apiauth": "an apiauth directive heartbeat refuses",
    "hacf-bad-stonith": "a stonith or stonith_host directive heartbeat refuses",
    "hacf-extra-words": "words after what the directive reads; ignored",
    "hacf-bad-medium": "a ucast/mcast/ucast6/mcast6/ping_group line heartbeat refuses",
    # haresources (hadoctor/parsers/haresources.py)
    "haresources-crlf": "DOS line endings: ResourceManager keeps the CR",
    "haresources-inline-comment": "a '#' after a resource: ResourceManager drops the rest of the line",
    "haresources-continued-comment": "a '#' on a continued line: not a comment for ResourceManager",
    "haresources-dangling-continuation": "the last line ends with a backslash",
    "haresources-empty-group": "a node name with no resources",
    "haresources-empty-argument": "an empty '::' argument: the shell drops it and later ones shift",
    "haresources-ip-arguments": "an IPaddr/IPaddr2 resource without exactly one argument",
    "haresources-ip-shorthand": "an odd but accepted IPaddr shorthand (empty field, trailing '/', extra field)",
    "haresources-bad-ip": "an IPaddr address that is not an IP address",
    "haresources-bad-netmask": "an IPaddr netmask that is not a prefix length or mask",
    "haresources-bad-broadcast": "an IPaddr broadcast that is not an address",
    "haresources-duplicate-key": "two resource groups starting with the same resource",
    # authkeys (hadoctor/parsers/authkeys.py)
    "authkeys-mode": "a file mode heartbeat refuses (readable by group or others)",
    "authkeys-bad-auth-line": "an auth line heartbeat refuses",
    "authkeys-bad-index": "a key index outside 1-15",
    "authkeys-bad-method": "a method other than crc, md5 or sha1",
    "authkeys-key-unused": "a key given to crc, which uses none",
    "authkeys-no-key": "md5 or sha1 without a key",
    "authkeys-extra-words": "words after the key; ignored",
    "authkeys-duplicate-key": "a key index defined twice",
    "authkeys-many-auth-lines": "more than one auth line",
    "authkeys-no-auth-line": "no auth line: heartbeat does not start",
    "authkeys-key-not-found": "the auth line names a key the file does not define",
    # heartbeat's log (hadoctor/parsers/hblog.py)
    "log-line-cut": "a log line too long to keep whole; cut",
    # addresses (hadoctor/parsers/interfaces_*.py)
    "ifaces-orphan-line": "an address or detail line before any interface header",
    "ifaces-unrecognised": "a line or words the address parsers do not know",
    "ifaces-bad-header": "an interface header not understood",
    "ifaces-bad-netmask": "a netmask that is not contiguous",
    "ifaces-bad-mtu": "an mtu that is not a number",
    "ifaces-unknown-state": "an interface state iproute2 does not print",
    "ifaces-bad-address": "an address line or address not understood",
    "ifaces-no-prefix": "an address without a prefix length",
    "ifaces-bad-label": "an address label of another interface",
    "ifaces-bad-line": "an `ip -br` line without a name and a state",
    "ifaces-too-many-addresses": "more addresses on one line than are read",
    "ifaces-bad-json": "`ip -j` output that is not the JSON list it prints",
    "ifaces-bad-entry": "an `ip -j` entry without the fields iproute2 gives",
    "ifaces-duplicate": "an interface listed twice",
    "ifaces-none": "no interface at all",
    "ifaces-unknown-flag": "interface flags the kernel does not have",
    "ifaces-lowercase-flags": "interface flags in lower case (hand-typed?)",
    "ifaces-unknown-index": "a netlink address on an interface index not listed",
    # packages (hadoctor/parsers/packages.py)
    "packages-unknown-format": "a package list format not named; detected from the content",
    "packages-none": "no package lines",
    "packages-bad-line": "a line that is not an rpm or dpkg package line",
    "packages-bad-version": "a version string the package manager would not write",
    "packages-not-installed": "a dpkg package not cleanly installed",
    "packages-duplicate": "a package installed twice (an interrupted upgrade?)",
    # the other artefacts
    "hosts-bad-address": "a hosts file line whose first field is no IP address",
    "hosts-no-name": "a hosts file address without a host name",
    "firewall-bad-line": "a line that is not iptables-save output",
    "scripts-bad-line": "a resource script listing line not understood",
    "scripts-unknown-mode": "a resource script listing with an unknown mode field",
    "bootservices-bad-line": "a line that is not systemctl or chkconfig output",
    "asterisk-bad-line": "an Asterisk configuration line that is not key = value",
    "osrelease-no-id": "os-release without an ID= line",
    "osrelease-empty": "no os-release, redhat-release or debian_version content",
    "mysql-client-error": "the mysql client printed an error instead of a result",
    "mysql-unexpected-line": "a line the MySQL status parsers do not expect",
    "mycnf-bad-line": "a my.cnf line that is not an option, group or ! directive",
    "mysqllog-bad-time": "a MySQL error log line whose date or time is none",
}


@dataclass(frozen=True)
class Problem:
    """Something in an input that could not be understood, or that the daemon refuses."""

    file: str
    line: int
    message: str
    text: str = ""  # the offending source text, shortened; never a secret
    severity: str = "error"  # "error": heartbeat refuses it / we could not parse; "warning": odd but accepted
    #: what kind of problem this is, one of PROBLEM_CODES, stable across wording changes (as shellcheck's
    #: SC codes are): rules divide their work by it, never by message text or line numbers. Every parser
    #: gives one ("" only in models made by hand).
    code: str = ""

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}" + (f" [{self.code}]" if self.code else "")


def to_int(text: str, base: int = 10, *, clamp: bool = False) -> Optional[int]:
    """The number ``text`` spells in ASCII digits of ``base``, else None; never raises.

    Every parser turns input digits into numbers with this: ``int()`` raises on strings over 4,300
    digits and accepts what no C program would (``٣``, ``1_000``, blanks, a sign). Over
    :data:`MAX_DIGITS` digits: None, or with ``clamp`` the largest value (version parts compare
    as "bigger than any sane one").

    >>> to_int("694"), to_int("ff", 16), to_int("١"), to_int("1_0"), to_int(" 1"), to_int("9" * 5000)
    (694, 255, None, None, None, None)
    >>> to_int("9" * 5000, clamp=True) == 10 ** MAX_DIGITS, to_int("0" * 5000 + "7")
    (True, 7)
    """
    if base == 10:  # the hot case (a pid on every log line): C-speed checks
        if not (text.isascii() and text.isdigit()):
            return None
    elif not text or not all(c in _BASE_DIGITS[base] for c in text):
        return None
    significant = text.lstrip("0")
    if len(significant) > MAX_DIGITS:
        return base ** MAX_DIGITS if clamp else None
    return int(significant or "0", base)


def decode(data: bytes) -> str:
    """Decode config bytes the way a C program sees them: UTF-8 where valid, else byte-for-byte.

    Heartbeat reads bytes; a stray latin-1 byte in a comment must not stop us.
    ``surrogateescape`` keeps every byte recoverable and never raises.
    """
    return data.decode("utf-8", errors="surrogateescape")


def shorten(text: str, limit: int = 120) -> str:
    # cut first: a problem per word of a 64 KB line must not re-encode the whole line each time
    text = text[:limit + 1].encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def numbered_lines(data: bytes) -> Iterator[Tuple[int, str]]:
    """Yield ``(line_number, text)`` for each physical line, CR/LF stripped.

    Works on files with or without a final newline, CRLF endings and NUL bytes.
    """
    if not data:
        return
    pieces = data.split(b"\n")
    if pieces[-1] == b"":
        pieces.pop()
    for number, raw in enumerate(pieces, start=1):
        yield number, decode(raw.rstrip(b"\r"))


def strip_comment(text: str) -> str:
    """Drop everything from the first ``#`` (heartbeat's rule for ha.cf)."""
    cut = text.find("#")
    return text if cut < 0 else text[:cut]
