"""Text for people: the one place that makes input safe to print, and the one console factory.

Everything hadoctor prints came, in part, from files of other machines, other people or the
network (node and folder names, log lines, archive member names, packet fields). Two rules hold for
every text output, on a terminal and in a pipe:

- data is never read as rich markup: :func:`safe` escapes it for a markup template, :func:`plain`
  wraps it in a ``Text`` that is never parsed;
- a control character from input never reaches the terminal raw: :func:`visible` shows it as a C
  escape, as ``systemd`` does (``\\x1b`` for ESC, ``\\n``, ``\\r``, ``\\xNN`` for a byte that was
  not UTF-8, ``\\u202e`` for a bidi override). Tabs stay tabs. A backslash is left as it is, so
  ``\\x1b`` in the output may also be those four characters in the input: JSON output is exact.

:func:`console` gives every command the same width policy: on a terminal the terminal's width
(``COLUMNS`` overrides it), with continuation lines indented under the text they continue
(:func:`hang`); anywhere else (a pipe, a file, cron mail) no hard wrap at all, one record per line.
Its output passes through a last filter (:class:`_SafeConsole`) that makes any control character
left in rendered text visible, and a template that is not valid markup is printed literally instead
of raising: a missed :func:`safe` costs a wrong colour, never a traceback or an escape sequence.
"""

from __future__ import annotations

import re
from typing import IO, TYPE_CHECKING, Iterable, List, Optional, Union

if TYPE_CHECKING:  # rich is imported lazily: start-up of commands that print nothing stays fast
    from rich.console import Console
    from rich.text import Text

# C0 controls but the tab, DEL, C1 controls (0x9b is CSI on 8-bit terminals), bytes that were not
# UTF-8 (decoded as lone surrogates U+DC80-U+DCFF by surrogateescape) and other lone surrogates,
# line/paragraph separators, and the invisible direction and format marks that reorder or hide text
# (LRM/RLM/ALM, bidi embeddings, overrides and isolates, BOM).
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
                     "\ud800-\udfff]")
_SHORT = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\v": "\\v"}

# A width no line reaches: in a pipe nothing is wrapped, tables take their natural width.
UNWRAPPED_WIDTH = 1_000_000
MIN_BODY = 24  # below this many columns a hanging indent is dropped: the body starts on the next line


def _show(match: "re.Match[str]") -> str:
    ch = match.group()
    code = ord(ch)
    if ch in _SHORT:
        return _SHORT[ch]
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte kept by surrogateescape: show the byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: object) -> str:
    """``text`` with every control character shown as a C escape (``\\x1b``, ``\\n``, ``\\x9b``).

    >>> visible("node01\\x1b]0;owned\\x07")
    'node01\\\\x1b]0;owned\\\\a'
    >>> visible("a\\tb")
    'a\\tb'
    """
    text = text if isinstance(text, str) else str(text)
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_show, text)


# rich markup reads ``\\*[tag]`` as a tag (or an escaped one) and ``\\[`` outside a tag as a bracket;
# a backslash elsewhere is itself. So each bracket gets a backslash, and a run of backslashes before a
# bracket or at the end is doubled and closed by an empty span, whatever the template puts after it.
# (rich's own ``escape`` loses a backslash before a bracket that opens no tag.)
_MARKUP = re.compile(r"(\\+)(?=\[|\Z)|\[")


def _escape_markup(match: "re.Match[str]") -> str:
    if match.group(1):
        return match.group(1) * 2 + "[dim][/dim]"
    return "\\["


def escape_markup(text: str) -> str:
    """``text`` that rich markup renders back exactly as ``text``: no tag, no lost backslash.

    >>> escape_markup("[/]")
    '\\\\[/]'
    """
    if "[" not in text and not text.endswith("\\"):
        return text
    return _MARKUP.sub(_escape_markup, text)


def safe(text: object) -> str:
    """``text`` from input, ready to sit inside a rich markup template: controls visible, markup escaped.

    >>> safe("[link=file:///etc/passwd]node01[/link]")
    '\\\\[link=file:///etc/passwd]node01\\\\[/link]'
    """
    return escape_markup(visible(text))


def padded(text: object, width: int) -> str:
    """:func:`safe` ``text``, then blanks up to ``width`` terminal columns (measured on what is shown)."""
    from rich.cells import cell_len

    shown = visible(text)
    return escape_markup(shown) + " " * max(0, width - cell_len(shown))


def plain(text: object, style: str = "") -> "Text":
    """``text`` from input as a rich ``Text`` (for table cells): never parsed as markup, controls visible."""
    from rich.text import Text

    return Text(visible(text), style=style)


def _console_class():
    from rich.console import Console
    from rich.errors import MarkupError
    from rich.segment import Segment

    class _SafeConsole(Console):
        """A Console whose rendered text never carries a raw control character (newlines aside)."""

        def render_str(self, text, **kwargs):
            try:
                return super().render_str(text, **kwargs)
            except MarkupError:
                kwargs["markup"] = False
                return super().render_str(text, **kwargs)

        def render(self, renderable, options=None):
            for segment in super().render(renderable, options):
                if segment.control or segment.text == "\n" or _UNSAFE.search(segment.text) is None:
                    yield segment
                else:
                    lines = segment.text.split("\n")
                    yield Segment("\n".join(visible(line) for line in lines), segment.style)

    return _SafeConsole


def console(*, stderr: bool = False, file: Optional[IO[str]] = None, terminal: Optional[bool] = None,
            width: Optional[int] = None) -> "Console":
    """The console every text output uses (see the module docstring for the width policy).
    ``terminal`` and ``width`` override what is detected (tests)."""
    cls = _console_class()
    con = cls(stderr=stderr, file=file, highlight=False, emoji=False, force_terminal=terminal, width=width)
    if not con.is_terminal:
        con.soft_wrap = True
        con.width = UNWRAPPED_WIDTH
    return con


def wraps(con: "Console") -> bool:
    """Whether ``con`` wraps lines (a terminal) or writes each record on one line (anything else)."""
    return not con.soft_wrap


def _breaks(text: str, first: int, rest: int) -> List[int]:
    """Offsets where ``text`` is cut to fit ``first`` columns, then ``rest`` columns per line: before a
    word that does not fit, or inside a word longer than a whole line (a path, a long token).
    Linear in ``len(text)``."""
    from rich.cells import cell_len

    offsets: List[int] = []
    limit, used = first, 0
    for word in re.finditer(r"\S+\s*", text):
        start, token = word.start(), word.group().rstrip()
        width = cell_len(token)
        if used and used + width > limit:
            offsets.append(start)
            used, limit = 0, rest
        while width > limit - used:  # longer than what is left of an empty line: fold it
            taken = cut = 0
            for ch in token:
                w = cell_len(ch)
                if taken + w > limit - used and cut:
                    break
                taken += w
                cut += 1
            start += cut
            token = token[cut:]
            offsets.append(start)
            width = cell_len(token)
            used, limit = 0, rest
        used += width + len(word.group()) - len(word.group().rstrip())
    return [o for o in offsets if 0 < o < len(text)]


def hang(con: "Console", lead: Union[str, "Text"], body: Union[str, "Text"], indent: Optional[int] = None) -> None:
    """Print ``lead`` then ``body``; on a terminal continuation lines start ``indent`` columns in
    (default: under the body's first character). Strings are rich markup, each rendered on its own (a
    tag cannot span lead and body); input inside them must have gone through :func:`safe`."""
    from rich.text import Text

    lead_t = con.render_str(lead) if isinstance(lead, str) else lead
    body_t = con.render_str(body) if isinstance(body, str) else body
    if not wraps(con):
        line = Text.assemble(lead_t, body_t)
        line.rstrip()
        con.print(line, soft_wrap=True)
        return
    if indent is None:
        indent = lead_t.cell_len
    width = con.width
    first, rest = width - lead_t.cell_len, width - indent
    if rest < MIN_BODY:  # a very narrow terminal: no indent at all rather than a one-word column
        indent, rest = 0, width
    if first < MIN_BODY:
        con.print(lead_t, soft_wrap=True)
        lead_t, first = Text(" " * indent), rest
    body_t = body_t.copy()
    body_t.expand_tabs()
    plain_body = body_t.plain
    pieces: Iterable[Text] = body_t.divide(_breaks(plain_body, first, rest)) if plain_body else [body_t]
    pad = Text(" " * indent)
    for i, piece in enumerate(pieces):
        piece.rstrip()
        con.print(Text.assemble(lead_t if i == 0 else pad, piece), soft_wrap=True)
