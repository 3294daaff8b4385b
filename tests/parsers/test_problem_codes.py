"""Every problem a parser reports carries a stable code from one table (hadoctor.parsers.base.PROBLEM_CODES),
as shellcheck gives even its parse errors a code; docs/parser-problems.md lists the same codes.

Three checks: the source (every ``Problem(...)`` built in hadoctor/parsers names a code, and every literal code
given there is in the table; every code of the table is used somewhere), the parsers at work (every corpus file
and a set of hostile inputs through every parser: no problem without a code in the table), and the docs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hadoctor.datums import DATUMS
from hadoctor.parsers.authkeys import parse_authkeys
from hadoctor.parsers.base import PROBLEM_CODES, TOO_MANY, Problem
from hadoctor.parsers.hblog import parse_hblog
from tests.conftest import REPO, corpus_files

PARSERS_DIR = REPO / "hadoctor" / "parsers"
DOC = REPO / "docs" / "parser-problems.md"


def _calls(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            yield (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")), node


def _code_arg(name: str, call: ast.Call):
    for keyword in call.keywords:
        if keyword.arg == "code":
            return keyword.value
    if name == "Problem" and len(call.args) >= 6:
        return call.args[5]
    return None


def test_every_problem_built_in_a_parser_names_a_code():
    missing, unknown = [], []
    for path in sorted(PARSERS_DIR.glob("*.py")):
        for name, call in _calls(path):
            if name not in ("Problem", "problem", "add", "warn"):
                continue
            code = _code_arg(name, call)
            if code is None:
                if name == "Problem":
                    missing.append(f"{path.name}:{call.lineno}")
                continue
            if isinstance(code, ast.Constant) and code.value not in PROBLEM_CODES:
                unknown.append(f"{path.name}:{call.lineno}: {code.value!r}")
    assert not missing, f"Problem(...) without a code: {missing}"
    assert not unknown, f"codes not in PROBLEM_CODES: {unknown}"


def test_every_code_in_the_table_is_used_somewhere():
    source = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "hadoctor").rglob("*.py"))
    # once as the table's key, at least once more where a parser gives it (TOO_MANY: its constant's definition)
    unused = [code for code in PROBLEM_CODES if source.count(f'"{code}"') < (1 if code == TOO_MANY else 2)]
    assert not unused, f"codes no parser gives: {unused}"


def test_codes_are_stable_in_shape():
    for code in PROBLEM_CODES:
        assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)+", code), code
        assert len(PROBLEM_CODES[code]) > 10, code


def test_the_docs_list_every_code():
    text = DOC.read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", text, re.MULTILINE))
    assert listed == set(PROBLEM_CODES), (sorted(set(PROBLEM_CODES) - listed), sorted(listed - set(PROBLEM_CODES)))


def test_a_problem_shows_its_code():
    assert str(Problem("ha.cf", 3, "Illegal directive [x]", code="hacf-unknown-directive")) == \
        "ha.cf:3: Illegal directive [x] [hacf-unknown-directive]"


# --- the parsers at work ---------------------------------------------------------------------------

def _parsers():
    found = {name: spec.parse_function() for name, spec in DATUMS.items()
             if getattr(spec, "parser", "") and name not in ("uname", "authkeys")}
    found["authkeys"] = lambda data, path: parse_authkeys(data, path, mode=0o644)
    found["log"] = parse_hblog
    return found


PARSERS = _parsers()

HOSTILE = [
    b"", b"\n\n", b"\0\0\0\n", b"\xff\xfe garbage \x80\n", b"x" * 70_000 + b"\n", b"a b c\r\nd e f\r\n",
    b"{{ ha_keepalive }}\n<%= node %>\n", b"[" * 100 + b"\n", b"1 2 3 4 5 6 7 8 9 10 11 12\n" * 3,
    b"keepalive\ndeadtime 1x\nudpport 99999\nnode a\nnode a\nucast\nmcast eth0\nauth\nauth 1 2\n1 sha1\n16 md5 k\n",
    b"node01 IPaddr::10.0.0.999/33/eth0/1.2.3 IPaddr::a::b IPaddr::1.2.3.4//eth0/ #c\\\n",
    b"2: eth0: <up> mtu x\n    inet 1.2.3.4 brd z\n    inet6 10.0.0.1/24\n",
    b"2026-13-45 25:19:56 6 [Note] Slave SQL thread exiting, replication stopped in log 'a' at position 4\n",
    b"[{\"ifname\": 1, \"addr_info\": 5}]\n", b"[1, {}]", b"{", b"-A INPUT garbage\n", b"ii  pkg\nzz pkg 1.0 amd64\n",
]


def _corpus():
    for kind, name in (("ha.cf", "ha_cf"), ("haresources", "haresources"), ("authkeys", "authkeys"),
                       ("ip-a", "addresses"), ("logs", "log")):
        for path in corpus_files(kind):
            yield name, path


def _check(name: str, data: bytes) -> None:
    model = PARSERS[name](data, "f")
    for problem in getattr(model, "problems", None) or []:
        assert problem.code in PROBLEM_CODES, f"{name}: problem without a known code: {problem!r}"


@pytest.mark.parametrize("name,path", list(_corpus()), ids=lambda v: getattr(v, "name", v))
def test_every_corpus_problem_has_a_code(name, path):
    _check(name, path.read_bytes())


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_hostile_input_problems_have_codes(name):
    seen = 0
    for data in HOSTILE:
        _check(name, data)
        seen += len(getattr(PARSERS[name](data, "f"), "problems", None) or [])
    assert seen, f"{name}: no hostile input gave a problem: the check above checked nothing"


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(PARSERS)), st.binary(max_size=300))
def test_random_bytes_give_only_coded_problems(name, data):
    _check(name, data)
