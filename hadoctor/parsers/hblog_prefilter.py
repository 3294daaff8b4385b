"""Fast candidate search for the heartbeat log parser's ``prefilter``.

Python's ``re`` has no multi-literal search: an alternation such as
``findif failed|Late heartbeat|bad node`` is tried at every byte whose value
could start one of the branches, which runs at roughly 100-200 MB/s. A plain
``bytes.find`` for one literal runs at several GB/s. So, like grep, we derive
from the prefilter a set of *required literals* (every match of the regex
contains at least one of them), find the lines holding one of them with
``bytes.find``, and confirm each such line with the real regex. When no useful
literal can be derived (case-insensitive patterns, very short literals), the
whole block is searched with the regex itself.

The literal extraction reads the regex's parse tree (``re._parser``, or
``sre_parse`` before Python 3.11). That module is private, so any surprise in
it falls back to the plain regex search rather than failing.

>>> rx = compile_prefilter(["findif failed", r"Late heartbeat: Node \\S+"])
>>> sorted(required_literals(rx))
[b'Late heartbeat: Node ', b'findif failed']
>>> buf = b"a\\nIPaddr: ERROR: findif failed\\nb\\n"
>>> candidate_finder(rx)(buf, 0, len(buf))
[2]
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, List, Optional, Pattern, Tuple, Union

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

CandidateFinder = Callable[[bytes, int, int], List[int]]


def compile_prefilter(patterns: Iterable[Union[str, bytes]], flags: int = 0) -> Pattern[bytes]:
    """Join message patterns into one bytes regex for ``iter_records(prefilter=...)``.

    Each pattern must match within one line. ``str`` patterns are encoded as UTF-8.
    """
    parts = []
    for pat in patterns:
        raw = pat.encode("utf-8", "surrogateescape") if isinstance(pat, str) else bytes(pat)
        parts.append(b"(?:" + raw + b")")
    return re.compile(b"|".join(parts) if parts else b"(?!)", flags)


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
    merged = list(literals)
    changed = True
    while changed and len(merged) > 1:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                common = _longest_common(merged[i], merged[j])
                if len(common) >= MIN_SHARED:
                    merged = [lit for k, lit in enumerate(merged) if k not in (i, j)] + [common]
                    changed = True
                    break
            if changed:
                break
    return merged


_LITERAL_CACHE: dict = {}


def required_literals(prefilter: Pattern[bytes]) -> Optional[Tuple[bytes, ...]]:
    """Literals one of which every match of ``prefilter`` contains, or None when there is no useful set.

    Literals that share a substring of MIN_SHARED bytes are replaced by it, and literals that
    contain another literal of the set are dropped (the shorter one finds them).
    """
    key = (prefilter.pattern, prefilter.flags)
    if key in _LITERAL_CACHE:
        return _LITERAL_CACHE[key]
    result: Optional[Tuple[bytes, ...]] = None
    if isinstance(prefilter.pattern, bytes) and not prefilter.flags & re.IGNORECASE:
        try:
            found = _required(_sre_parse.parse(prefilter.pattern, prefilter.flags).data)
        except Exception:  # noqa: BLE001 - private module; any surprise means "no literals"
            found = None
        if found and min(map(len, found)) >= MIN_LITERAL:
            ordered = sorted(_merge_shared(sorted(found)), key=len)
            kept: List[bytes] = []
            for lit in ordered:
                if not any(k in lit for k in kept):
                    kept.append(lit)
            result = tuple(kept)
    if len(_LITERAL_CACHE) > 256:
        _LITERAL_CACHE.clear()
    _LITERAL_CACHE[key] = result
    return result


def candidate_finder(prefilter: Pattern[bytes]) -> CandidateFinder:
    """A function ``(buf, start, end) -> [line start, ...]`` listing, in order, the lines that may match.

    ``buf[start:end]`` must consist of whole lines ending in ``\\n``. The list is a superset
    of the lines on which ``prefilter`` matches; callers confirm each line with the regex.
    """
    literals = required_literals(prefilter)
    if literals is not None:
        def by_literals(buf: bytes, start: int, end: int) -> List[int]:
            found = set()
            rfind, find = buf.rfind, buf.find
            for lit in literals:
                hit = find(lit, start, end)
                while hit >= 0:
                    nl = rfind(b"\n", start, hit)
                    found.add(start if nl < 0 else nl + 1)
                    hit = find(lit, find(b"\n", hit, end) + 1, end)
            return sorted(found)
        return by_literals

    # ^ and $ must mean line start/end while the whole block is searched at once.
    scan = re.compile(prefilter.pattern, prefilter.flags | re.MULTILINE)

    def by_regex(buf: bytes, start: int, end: int) -> List[int]:
        found = []
        pos = start
        search, rfind, find = scan.search, buf.rfind, buf.find
        while pos < end:
            m = search(buf, pos, end)
            if m is None:
                break
            nl = rfind(b"\n", start, m.start())
            line_start = start if nl < 0 else nl + 1
            if line_start >= pos:
                found.append(line_start)
            line_end = find(b"\n", m.start(), end)
            pos = end if line_end < 0 else line_end + 1
        return found
    return by_regex
