"""What every parser shares: problems with a location, and text decoding.

Parsers are pure: bytes in, typed model out. They never raise on bad input;
whatever they cannot understand becomes a :class:`Problem` that names the file
and the line (1-based; 0 means "the file as a whole").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional, Tuple

#: The longest line a config parser looks at; longer lines become a problem.
MAX_CONFIG_LINE = 64 * 1024
#: The most digits :func:`to_int` turns into a number. No pid, port, index or version part needs
#: more, and Python refuses to convert over 4,300 digits (a ValueError that would be a traceback).
MAX_DIGITS = 64
#: Problems reported for one line at most; a line of 30,000 bad words gets one more saying so, not 30,000.
MAX_PROBLEMS_PER_LINE = 10
_BASE_DIGITS = {2: frozenset("01"), 8: frozenset("01234567"), 10: frozenset("0123456789"),
                16: frozenset("0123456789abcdefABCDEF")}


@dataclass(frozen=True)
class Problem:
    """Something in an input that could not be understood, or that the daemon refuses."""

    file: str
    line: int
    message: str
    text: str = ""  # the offending source text, shortened; never a secret
    severity: str = "error"  # "error": heartbeat refuses it / we could not parse; "warning": odd but accepted
    #: what kind of problem this is, stable across wording changes (as shellcheck's SC codes are): rules
    #: divide their work by it, never by message text or line numbers. "" for the kinds no rule singles out.
    code: str = ""

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"


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
