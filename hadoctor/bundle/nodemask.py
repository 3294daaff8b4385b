"""The node's own masking: :data:`hadoctor.bundle.redact.CREDENTIAL_FORMS` as one ``sed`` program, so a
credential is masked before it leaves the node (the collector masks again: defence in depth).

Nodes may be old CentOS or busybox without Python: the program is POSIX ERE for ``sed -E`` (``sed -r``
where an old GNU sed lacks ``-E``), run with ``LC_ALL=C`` so any byte is one character. It is generated
from the Python patterns, never written by hand, so there is one table of forms. What ERE lacks is
translated: case-insensitive letters become ``[xX]``, ``(?:...)`` a numbered group, ``\\s`` ``[:space:]``;
``\\b`` is dropped (a match may then start inside a word: the node masks a superset, never less).
Python's group 1 (the secret) becomes ``****``; what stands before and after it is kept. A quoted value
loses its quotes on the node (``password="****"`` there is ``password=****``). A pattern this cannot
translate faithfully (lazy repeats, lookarounds, a class that crosses a line end...) is refused with
:class:`Untranslatable` when the program is built, which the tests do.

>>> ere(rb"(?i)\\bpwd[ \\t]*=(x+|'[^'\\n]+')")
"([Pp][Ww][Dd][\\t ]*=)([Xx]+|'[^']+')()"
"""

from __future__ import annotations

import functools
from typing import List, Tuple

try:  # the stdlib's own parser of regular expressions (re._parser from Python 3.11, sre_parse before)
    from re import _parser as _sre  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_parse as _sre  # type: ignore[no-redef]

from hadoctor.bundle.redact import CREDENTIAL_FORMS, MASK

_IGNORECASE, _MULTILINE = 2, 8
_SPECIAL = set(b".[]()*+?{}|^$\\")
#: what a sed ``s`` command may be delimited with (the first not in the program's pattern)
_DELIMITERS = b"#%!,~@"


class Untranslatable(ValueError):
    """A credential form uses something POSIX ERE cannot say the same way."""


def _letter_cases(code: int, icase: bool) -> List[int]:
    if icase and (65 <= code <= 90 or 97 <= code <= 122):
        return sorted({code | 0x20, code & ~0x20})
    return [code]


def _literal(code: int, icase: bool) -> str:
    cases = _letter_cases(code, icase)
    if len(cases) > 1:
        return "[" + "".join(map(chr, cases)) + "]"
    if code in _SPECIAL:
        return "\\" + chr(code)
    if code == 10 or (code < 32 and code != 9 and code != 13) or code == 127:
        raise Untranslatable(f"a control character {code:#x} outside a class")
    return chr(code)


def _bracket(items, icase: bool) -> str:
    negate = False
    members: List[str] = []
    codes: set = set()
    ranges: List[Tuple[int, int]] = []
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            codes.update(_letter_cases(arg, icase))
        elif name == "RANGE":
            lo, hi = arg
            ranges.append((lo, hi))
            if icase:
                for a, b in ((65, 90), (97, 122)):
                    if lo <= b and hi >= a:  # the other case of the letters in this range
                        ranges.append((max(lo, a) ^ 0x20, min(hi, b) ^ 0x20))
        elif name == "CATEGORY" and str(arg) == "CATEGORY_SPACE":
            members.append("[:space:]")
            codes.add(10)  # \s holds the line end: a class without it crosses lines
        elif name == "CATEGORY" and str(arg) == "CATEGORY_DIGIT":
            ranges.append((48, 57))
        else:
            raise Untranslatable(f"{name} {arg} in a character class")
    if negate and 10 not in codes:
        raise Untranslatable("a negated class that matches a line end (sed sees one line at a time)")
    codes.discard(10)  # sed never sees the line end
    for lo, hi in ranges:
        if not (32 < lo <= hi < 127) or chr(lo) in "]^-\\" or chr(hi) in "]^-\\":
            raise Untranslatable(f"the range {lo:#x}-{hi:#x} in a class")
        members.append(f"{chr(lo)}-{chr(hi)}")
    for code in sorted(codes):
        if code == 92:
            raise Untranslatable("a backslash in a class (sed implementations read it differently)")
        if (code < 32 and code not in (9, 13)) or code == 127:
            raise Untranslatable(f"a control character {code:#x} in a class")
    plain = [chr(c) for c in sorted(codes) if chr(c) not in "]^-"]
    # POSIX: ']' first, '-' last, '^' anywhere but first
    body = ("]" if 93 in codes else "") + "".join(members) + "".join(plain) + ("^" if 94 in codes else "") \
        + ("-" if 45 in codes else "")
    if body in ("", "^"):
        raise Untranslatable("an empty class")
    return "[" + ("^" if negate else "") + body + "]"


class _Emitter:
    def __init__(self, flags: int) -> None:
        self.icase = bool(flags & _IGNORECASE)
        self.multiline = bool(flags & _MULTILINE)
        self.groups = 0  # ERE groups opened so far (every group of ours is a numbered one)

    def seq(self, nodes) -> str:
        return "".join(self.node(op, arg) for op, arg in nodes)

    def group(self, nodes) -> str:
        nodes = list(nodes)
        if len(nodes) == 1 and str(nodes[0][0]) in ("SUBPATTERN", "BRANCH"):
            return self.node(*nodes[0])  # a group already
        self.groups += 1
        return "(" + self.seq(nodes) + ")"

    def node(self, op, arg) -> str:
        name = str(op)
        if name == "LITERAL":
            return _literal(arg, self.icase)
        if name == "IN":
            return _bracket(arg, self.icase)
        if name == "ANY":
            return "."
        if name == "AT":
            where = str(arg)
            if where in ("AT_BEGINNING", "AT_BEGINNING_STRING"):
                return "^"  # a line start; a string start is one too (a superset)
            if where in ("AT_END", "AT_END_STRING"):
                return "$"
            if where == "AT_BOUNDARY":
                return ""  # dropped: a superset, see the module's docstring
            raise Untranslatable(where)
        if name == "MAX_REPEAT":
            low, high, item = arg
            inner = list(item)
            body = self.node(*inner[0]) if len(inner) == 1 else self.group(inner)
            if len(inner) == 1 and str(inner[0][0]) == "MAX_REPEAT":
                body = self._wrap(body)
            if (low, high) == (0, _sre.MAXREPEAT):
                return body + "*"
            if (low, high) == (1, _sre.MAXREPEAT):
                return body + "+"
            if (low, high) == (0, 1):
                return body + "?"
            if high == _sre.MAXREPEAT:
                return body + "{%d,}" % low
            if high > 255:
                raise Untranslatable(f"a repeat of up to {high} (RE_DUP_MAX is 255)")
            return body + "{%d,%d}" % (low, high)
        if name == "SUBPATTERN":
            _group, add, remove, inner = arg
            if add or remove:
                raise Untranslatable("flags inside a group")
            inner = list(inner)
            if len(inner) == 1 and str(inner[0][0]) == "BRANCH":
                return self.node(*inner[0])  # (a|b): one group
            self.groups += 1
            return "(" + self.seq(inner) + ")"
        if name == "BRANCH":
            _none, alternatives = arg
            self.groups += 1
            return "(" + "|".join(self.seq(alt) for alt in alternatives) + ")"
        raise Untranslatable(name)

    def _wrap(self, body: str) -> str:
        self.groups += 1
        return "(" + body + ")"


def ere(pattern: bytes, flags: int = 0) -> str:
    """``(before)(secret)(after)`` in POSIX ERE for a pattern whose group 1 is the secret."""
    return _translate(pattern, flags)[0]


def _translate(pattern: bytes, flags: int) -> Tuple[str, int]:
    """The ERE and the number of its last group (what follows the secret)."""
    tree = _sre.parse(pattern.decode("latin-1"), flags)
    flags = tree.state.flags
    if tree.state.groups != 2:  # group 0 and the secret
        raise Untranslatable("a credential form has exactly one group, the secret")
    nodes = list(tree)
    at = [i for i, (op, arg) in enumerate(nodes) if str(op) == "SUBPATTERN" and arg[0] == 1]
    if not at:
        raise Untranslatable("the secret (group 1) must stand at the top level of the pattern")
    emit = _Emitter(flags)
    before = emit.group(nodes[:at[0]])
    secret = emit.node(*nodes[at[0]])
    last = emit.groups + 1
    after = emit.group(nodes[at[0] + 1:])
    return before + secret + after, last


def _command(pattern: bytes, flags: int) -> str:
    regex, after = _translate(pattern, flags)
    if after > 9:
        raise Untranslatable(f"sed names groups 1 to 9; this form needs group {after}")
    delimiter = next((chr(d) for d in _DELIMITERS if chr(d) not in regex), None)
    if delimiter is None:
        raise Untranslatable("no free delimiter")
    return f"s{delimiter}{regex}{delimiter}\\1{MASK.decode()}\\{after}{delimiter}g"


@functools.lru_cache(maxsize=1)
def sed_program() -> str:
    """The sed program (one ``s`` command a line) masking every credential form, in the table's order."""
    return "\n".join(_command(rx.pattern, rx.flags) for _what, rx in CREDENTIAL_FORMS) + "\n"


def sh_function(name: str = "hd_mask") -> str:
    """POSIX sh defining ``name`` (stdin masked to stdout; its status is sed's) and ``HD_MASK``, how:
    ``sed -E``, ``sed -r`` (an old GNU sed), or ``none`` (no working sed: ``name`` copies as it is and the
    collector alone masks). The program travels in the script, single-quoted (it holds no secret)."""
    program = sed_program().replace("'", "'\\''")
    return (f"HD_SED='{program}'\n"
            "HD_MASK=none\n"
            "for x in -E -r; do\n"
            "  if [ \"$(echo ab | LC_ALL=C sed $x 's/(a)(b)/\\2\\1/' 2>/dev/null)\" = ba ]; then HD_MASK=\"sed $x\"; break; fi\n"
            "done\n"
            f'if [ "$HD_MASK" = none ]; then {name}() {{ cat; }}; '
            f'else {name}() {{ LC_ALL=C sed "${{HD_MASK#sed }}" -e "$HD_SED"; }}; fi\n')
