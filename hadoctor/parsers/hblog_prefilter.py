"""Fast candidate search for the heartbeat log parser's ``prefilter``.

Python's ``re`` has no multi-literal search: an alternation such as
``findif failed|Late heartbeat|bad node`` is tried at every byte whose value
could start one of the branches, which runs at roughly 100-200 MB/s. A plain
``bytes.find`` for one literal runs at several GB/s. So, like grep, a
:class:`Scanner` derives from the prefilter a set of *required literals* (every
match contains at least one of them), finds the lines holding one with
``bytes.find``, and confirms each such line with the regex. The prefilter is
split into its top-level alternatives first, so that a line is confirmed only
against the alternatives whose literals it holds (one big alternation of rule
patterns costs microseconds per line; one alternative, a fraction of that).
When no useful literal can be derived (case-insensitive patterns, literals
shorter than :data:`MIN_LITERAL`), the whole block is searched with the regex.

The literal extraction reads the regex's parse tree (``re._parser``, or
``sre_parse`` before Python 3.11). That module is private, so any surprise in
it falls back to the plain regex search rather than failing.

>>> rx = compile_prefilter(["findif failed", r"Late heartbeat: Node \\S+"])
>>> sorted(required_literals(rx))
[b'Late heartbeat: Node ', b'findif failed']
>>> scanner = Scanner(rx)
>>> buf = b"a\\nIPaddr: ERROR: findif failed\\nb\\n"
>>> [(line_start, scanner.confirm(buf[line_start:buf.index(b"\\n", line_start)], key))
...  for line_start, key in scanner.candidates(buf, 0, len(buf))]
[(2, True)]
"""

from __future__ import annotations

import re
from typing import Dict, Iterable, List, Optional, Pattern, Tuple, Union

from hadoctor.linear import compile_bounded

try:  # Python >= 3.11
    from re import _constants as _sre_c  # type: ignore[attr-defined]
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.9 / 3.10
    import sre_constants as _sre_c  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

#: Literals shorter than this give too many false candidates; the regex scan is used instead.
MIN_LITERAL = 3
#: Literals sharing a substring this long are searched as that substring: one pass instead of several
#: (bytes.find costs about the same for any needle this long, much more for short ones).
MIN_SHARED = 12

_LITERAL = _sre_c.LITERAL
_SUBPATTERN = _sre_c.SUBPATTERN
_BRANCH = _sre_c.BRANCH
_REPEATS = tuple(op for op in (getattr(_sre_c, n, None) for n in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"))
                 if op is not None)
_ATOMIC = getattr(_sre_c, "ATOMIC_GROUP", None)
_IGNORECASE = _sre_c.SRE_FLAG_IGNORECASE
# constructs that make alternatives depend on each other or on the whole pattern: do not split
_UNSPLITTABLE = re.compile(rb"\\[1-9]|\(\?P=|\(\?\(|\(\?[aiLmsux]+\)")


def compile_prefilter(patterns: Iterable[Union[str, bytes]], flags: int = 0) -> Pattern[bytes]:
    """Join message patterns into one bytes regex for ``iter_records(prefilter=...)``.

    Each pattern must match within one line. ``str`` patterns are encoded as UTF-8.
    """
    parts = []
    for pat in patterns:
        raw = pat.encode("utf-8", "surrogateescape") if isinstance(pat, str) else bytes(pat)
        parts.append(b"(?:" + raw + b")")
    # repeats bounded as in every message pattern (hadoctor.linear): a block search stays linear too
    return compile_bounded(b"|".join(parts), flags) if parts else re.compile(b"(?!)", flags)


def as_bytes_pattern(prefilter: Pattern) -> Pattern[bytes]:
    """A ``str`` regex is recompiled as the equivalent bytes regex (UTF-8); a bytes regex is returned as is."""
    if isinstance(prefilter.pattern, bytes):
        return prefilter
    return re.compile(prefilter.pattern.encode("utf-8", "surrogateescape"), prefilter.flags & ~re.UNICODE)


def _best(a: Optional[frozenset], b: Optional[frozenset]) -> Optional[frozenset]:
    """The cheaper of two literal sets: the longer shortest literal, then the fewer literals."""
    if a is None:
        return b
    if b is None:
        return a
    ka = (min(map(len, a)), -len(a))
    kb = (min(map(len, b)), -len(b))
    return b if kb > ka else a


def _required(items, depth: int = 0) -> Optional[frozenset]:
    """A set of byte strings one of which occurs in every match of the parsed sequence ``items``."""
    if depth > 50:
        return None
    best: Optional[frozenset] = None
    run = bytearray()
    for op, av in items:
        if op is _LITERAL:
            run.append(av)
            continue
        if run:
            best = _best(best, frozenset([bytes(run)]))
            run = bytearray()
        if op is _SUBPATTERN:
            add_flags, sub = av[1], av[3]
            if not add_flags & _IGNORECASE:
                best = _best(best, _required(sub.data, depth + 1))
        elif op is _BRANCH:
            alternatives = [_required(alt.data, depth + 1) for alt in av[1]]
            if alternatives and all(a is not None for a in alternatives):
                best = _best(best, frozenset().union(*alternatives))
        elif op in _REPEATS:
            low, _high, sub = av
            if low >= 1:
                best = _best(best, _required(sub.data, depth + 1))
        elif _ATOMIC is not None and op is _ATOMIC:
            best = _best(best, _required(av.data, depth + 1))
    if run:
        best = _best(best, frozenset([bytes(run)]))
    return best


def _literals_of(pattern: bytes, flags: int) -> Optional[frozenset]:
    if flags & re.IGNORECASE:
        return None
    try:
        found = _required(_sre_parse.parse(pattern, flags).data)
    except Exception:  # noqa: BLE001 - private module; any surprise means "no literals"
        return None
    return found if found and min(map(len, found)) >= MIN_LITERAL else None


def _longest_common(a: bytes, b: bytes) -> bytes:
    best = b""
    for i in range(len(a)):
        for j in range(i + len(best) + 1, len(a) + 1):
            if a[i:j] in b:
                best = a[i:j]
            else:
                break
    return best


def _merge_shared(literals: List[bytes]) -> List[bytes]:
    """Replace literals that share a long substring by that substring (a superset of candidates)."""
    merged = sorted(set(literals))
    while len(merged) > 1:
        # only pairs with a common MIN_SHARED-byte piece can merge: index those pieces
        owner: Dict[bytes, int] = {}
        pair = None
        for k, lit in enumerate(merged):
            for i in range(len(lit) - MIN_SHARED + 1):
                other = owner.setdefault(lit[i:i + MIN_SHARED], k)
                if other != k:
                    pair = (other, k)
                    break
            if pair:
                break
        if pair is None:
            break
        i, j = pair
        common = _longest_common(merged[i], merged[j])
        merged = sorted(set([lit for k, lit in enumerate(merged) if k not in (i, j)] + [common]))
    return merged


def _search_set(found: Iterable[bytes]) -> Tuple[bytes, ...]:
    """The literals to search: shared substrings merged, literals containing another one dropped."""
    kept: List[bytes] = []
    for lit in sorted(_merge_shared(sorted(set(found))), key=len):
        if not any(k in lit for k in kept):
            kept.append(lit)
    return tuple(kept)


def _alternatives(prefilter: Pattern[bytes]) -> Optional[List[bytes]]:
    """The top-level alternatives of the pattern's source, or None when splitting could change its meaning."""
    pattern, flags = prefilter.pattern, prefilter.flags
    if flags & re.VERBOSE or _UNSPLITTABLE.search(pattern):
        return None
    parts, depth, start, i, n = [], 0, 0, 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x5C:  # backslash: skip the escaped byte
            i += 2
            continue
        if c == 0x5B:  # character class: "|" and ")" inside are literal
            i += 1
            if i < n and pattern[i] == 0x5E:
                i += 1
            if i < n and pattern[i] == 0x5D:
                i += 1
            while i < n and pattern[i] != 0x5D:
                i += 2 if pattern[i] == 0x5C else 1
        elif c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
        elif c == 0x7C and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


class Scanner:
    """Finds the lines a prefilter may match (``candidates``) and tells whether it does (``confirm``).

    ``candidates(buf, start, end)`` lists ``(line start, key)`` in order for the lines of
    ``buf[start:end]`` (whole lines) that may match; ``confirm(line, key)`` is exactly
    ``prefilter.search(line) is not None`` for such a line.
    """

    def __init__(self, prefilter: Pattern[bytes]) -> None:
        self.regex = prefilter
        self.literals: Optional[Tuple[bytes, ...]] = None
        self._by_literal: List[Tuple[Pattern[bytes], ...]] = []
        self._by_key: Dict[int, Tuple[Pattern[bytes], ...]] = {}
        self._setup()
        if self.literals is None:
            # ^ and $ must mean line start/end while the whole block is searched at once
            self._scan = re.compile(prefilter.pattern, prefilter.flags | re.MULTILINE)

    def _setup(self) -> None:
        flags = self.regex.flags
        alternatives = _alternatives(self.regex)
        pieces: List[Tuple[Pattern[bytes], frozenset]] = []
        if alternatives is not None and len(alternatives) > 1:
            try:
                for text in dict.fromkeys(alternatives):
                    lits = _literals_of(text, flags)
                    if lits is None:
                        return
                    pieces.append((re.compile(text, flags), lits))
            except re.error:
                pieces = []
        if not pieces:
            lits = _literals_of(self.regex.pattern, flags)
            if lits is None:
                return
            pieces = [(self.regex, lits)]
        self.literals = _search_set(lit for _, lits in pieces for lit in lits)
        # a line holding literal L can match only the alternatives one of whose literals contains L
        self._by_literal = [tuple(rx for rx, lits in pieces if any(lit in own for own in lits))
                            for lit in self.literals]

    def candidates(self, buf: bytes, start: int, end: int) -> List[Tuple[int, int]]:
        if self.literals is None:
            return self._regex_candidates(buf, start, end)
        found: Dict[int, int] = {}
        rfind, find = buf.rfind, buf.find
        for index, lit in enumerate(self.literals):
            bit = 1 << index
            hit = find(lit, start, end)
            while hit >= 0:
                nl = rfind(b"\n", start, hit)
                line_start = start if nl < 0 else nl + 1
                found[line_start] = found.get(line_start, 0) | bit
                hit = find(lit, find(b"\n", hit, end) + 1, end)
        return sorted(found.items())

    def _regex_candidates(self, buf: bytes, start: int, end: int) -> List[Tuple[int, int]]:
        found = []
        pos = start
        search, rfind, find = self._scan.search, buf.rfind, buf.find
        while pos < end:
            m = search(buf, pos, end)
            if m is None:
                break
            nl = rfind(b"\n", start, m.start())
            found.append((start if nl < 0 else nl + 1, 0))
            line_end = find(b"\n", m.start(), end)
            pos = end if line_end < 0 else line_end + 1
        return found

    def confirm(self, line: bytes, key: int) -> bool:
        """Whether the prefilter matches ``line``, a candidate whose ``key`` came from ``candidates``."""
        if not key:
            return self.regex.search(line) is not None
        regexes = self._by_key.get(key)
        if regexes is None:
            chosen: Dict[Pattern[bytes], None] = {}
            for index, group in enumerate(self._by_literal):
                if key >> index & 1:
                    chosen.update(dict.fromkeys(group))
            regexes = self._by_key[key] = tuple(chosen)
            if len(self._by_key) > 4096:
                self._by_key.clear()
        for rx in regexes:
            if rx.search(line) is not None:
                return True
        return False


_SCANNERS: Dict[Tuple[bytes, int], Scanner] = {}


def scanner_for(prefilter: Pattern[bytes]) -> Scanner:
    """The (cached) Scanner of a compiled bytes prefilter."""
    key = (prefilter.pattern, prefilter.flags)
    scanner = _SCANNERS.get(key)
    if scanner is None:
        if len(_SCANNERS) > 64:
            _SCANNERS.clear()
        scanner = _SCANNERS[key] = Scanner(prefilter)
    return scanner


def required_literals(prefilter: Pattern[bytes]) -> Optional[Tuple[bytes, ...]]:
    """The literals searched for ``prefilter`` (one of them is in every match), or None when there is no useful set.

    Literals that share a substring of MIN_SHARED bytes are replaced by it, and literals that
    contain another literal of the set are dropped (the shorter one finds them).
    """
    return scanner_for(prefilter).literals if isinstance(prefilter.pattern, bytes) else None
