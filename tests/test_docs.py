"""The documentation's pointers hold: every ``docs/<page>.md#<section>`` named in code, tests or docs
leads to an existing file and heading, every relative link between the Markdown pages resolves,
and nothing in the repository leans on reference notes kept outside it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: what we read: our code, tests, benchmarks, docs and the top-level files a reader opens first
SCANNED = ("hadoctor", "rules", "tests", "benchmarks", "docs", "examples", "README.md", "test.sh",
           "pyproject.toml", ".ci")
#: text written by other people, kept as found (its own URLs name other projects' docs/ folders)
NOT_OURS = (ROOT / "tests" / "fixtures" / "corpus",)
TEXT_SUFFIXES = {".py", ".md", ".sh", ".toml", ".txt", ".cfg", ".ini", ".yml", ".yaml", ""}

#: ``docs/<page>.md`` or ``docs/<dir>/<page>.md#<anchor>``, not inside a longer path or URL
DOC_REF = re.compile(r"(?<![\w./-])(docs/[\w./-]+?\.md)(?:#([\w-]+))?")
#: a Markdown link or image target: ``[text](target)``
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


def _ours(path: Path) -> bool:
    return not any(path == d or d in path.parents for d in NOT_OURS)


def _files() -> Iterator[Path]:
    for name in SCANNED:
        p = ROOT / name
        if p.is_file():
            yield p
        elif p.is_dir():
            for f in sorted(p.rglob("*")):
                if (f.is_file() and not f.is_symlink() and f.suffix in TEXT_SUFFIXES and _ours(f)
                        and "__pycache__" not in f.parts):
                    yield f


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "replace")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, blanks to hyphens."""
    text = re.sub(r"`|\*\*|__", "", heading).strip().lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link in a heading keeps its text
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> Set[str]:
    """The anchors a Markdown file offers (headings outside code fences; repeats get -1, -2 ...)."""
    seen: Dict[str, int] = {}
    out: Set[str] = set()
    fenced = False
    for line in _text(path).splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        m = None if fenced else HEADING.match(line)
        if m:
            base = slug(m.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else f"{base}-{n}")
    return out


def _code_refs() -> List[Tuple[str, str, str]]:
    refs = []
    for f in _files():
        for lineno, line in enumerate(_text(f).splitlines(), 1):
            for m in DOC_REF.finditer(line):
                refs.append((f"{f.relative_to(ROOT)}:{lineno}", m.group(1), m.group(2) or ""))
    return refs


def _md_links() -> List[Tuple[str, Path, str]]:
    links = []
    for f in _files():
        if f.suffix != ".md":
            continue
        fenced = False
        for lineno, line in enumerate(_text(f).splitlines(), 1):
            if FENCE.match(line):
                fenced = not fenced
            if fenced:
                continue
            for m in MD_LINK.finditer(line):
                target = m.group(1)
                if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, mailto: ...
                    continue
                file_part, _, anchor = target.partition("#")
                dest = (f.parent / file_part).resolve() if file_part else f
                links.append((f"{f.relative_to(ROOT)}:{lineno}", dest, anchor))
    return links


def _broken(where: str, dest: Path, anchor: str) -> str:
    shown = dest.relative_to(ROOT) if ROOT in dest.parents else dest
    if not dest.exists():
        return f"{where}: {shown} does not exist"
    if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
        return f"{where}: {shown} has no heading for #{anchor}"
    return ""


def test_slug_follows_github():
    assert slug("Which key signs and which verifies") == "which-key-signs-and-which-verifies"
    assert slug("ha.cf as heartbeat 3.0.6 reads it") == "hacf-as-heartbeat-306-reads-it"
    assert slug("IPaddr and findif") == "ipaddr-and-findif"
    assert slug("The `auth` line: order") == "the-auth-line-order"


def test_anchors_skip_code_fences_and_number_repeats(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("# Top\n```\n# not a heading\n```\n## Same\n## Same\n")
    assert anchors(page) == {"top", "same", "same-1"}


def test_the_scan_finds_the_heartbeat_reference_pointers():
    """Guards the scan itself: the code does point into docs/heartbeat/ (an empty scan would pass)."""
    refs = _code_refs()
    assert any(page.startswith("docs/heartbeat/") and anchor for _, page, anchor in refs)
    assert any(where.startswith("hadoctor/") and page.startswith("docs/heartbeat/") for where, page, _ in refs)


def test_every_docs_reference_in_code_tests_and_docs_resolves():
    broken = [b for where, page, anchor in _code_refs() if (b := _broken(where, (ROOT / page).resolve(), anchor))]
    assert broken == []


def test_every_relative_markdown_link_resolves():
    links = _md_links()
    assert any(anchor for _, _, anchor in links)
    broken = [b for where, dest, anchor in links if (b := _broken(where, dest, anchor))]
    assert broken == []


def test_a_broken_pointer_is_caught(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("## Auth bytes\n")
    assert _broken("x", page, "auth-bytes") == ""
    assert "no heading for #auth-byte" in _broken("x", page, "auth-byte")
    assert "does not exist" in _broken("x", tmp_path / "q.md", "")


#: notes that lived beside the repository once; nothing may depend on them or cite them. A bare
#: section number (the old citations' form) must name its page instead; the corpus's own
#: EXPECTED.md is in the repository and keeps its numbered sections.
OUTSIDE = re.compile("|".join([
    r"\.\./shared", "/work/" + "shared",              # split so this file does not match itself
    "heartbeat-" + "facts", r"facts\s+" + "sheet", r"(?<!EXPECTED\.md )" + "§" + r"\s*\d",
]), re.IGNORECASE)


@pytest.mark.parametrize("pattern_hit", ["see ../shared/corpus", "facts §1.6", "facts sheet 5.1",
                                         "heartbeat-facts.md §3", "lab.md §5", "formats (§1.4)"])
def test_outside_pattern_catches_the_old_forms(pattern_hit):
    assert OUTSIDE.search(pattern_hit)


def test_outside_pattern_spares_the_in_repo_corpus_notes():
    assert not OUTSIDE.search("tests/fixtures/corpus/ha.cf/* (EXPECTED.md §7 says which defect)")


def test_nothing_cites_notes_outside_the_repository():
    hits = []
    for f in _files():
        if f == Path(__file__).resolve():
            continue
        for lineno, line in enumerate(_text(f).splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{f.relative_to(ROOT)}:{lineno}: {line.strip()[:100]}")
    assert hits == []
