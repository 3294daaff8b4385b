"""The committed lab captures (tests/fixtures/lab, examples/) are complete and consistent.
No root needed: these read files only."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import evidence as ev

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "lab"
EXAMPLES = REPO / "examples"
REQUIRED = ("healthy", "failover", "split-brain", "partition-one-way", "findif",
            "foreign-cluster", "bad-authkeys-mode", "authkeys-mismatch", "node-name-mismatch",
            "timing-refused")
CAPTURES = sorted(p for p in FIXTURES.glob("*/scenario.json")) if FIXTURES.is_dir() else []


def test_required_fixtures_exist():
    names = {p.parent.name for p in CAPTURES}
    assert set(REQUIRED) <= names, set(REQUIRED) - names
    readme = (FIXTURES / "README.md").read_text()
    for name in names:
        assert f"`{name}`" in readme, f"{name} not described in tests/fixtures/lab/README.md"


@pytest.mark.parametrize("cap", [p.parent for p in CAPTURES], ids=lambda p: p.name)
def test_fixture_is_consistent(cap):
    assert ev.layout_problems(cap) == []
    d = ev.doc(cap)
    assert d["scenario"] and d["events"][0]["event"] == "lab_up"
    assert ev.holders(cap) == sorted(d["expected"]["vip_holders"])
    for n in ev.nodes(cap):
        assert (cap / n / "packages.txt").read_text().startswith("cluster-glue\t")


@pytest.mark.parametrize("name", ["healthy", "split-brain"])
def test_examples_are_copies_of_fixtures(name):
    src, dst = FIXTURES / name, EXAMPLES / name
    assert (dst / "README.md").is_file()
    files = sorted(p.relative_to(src) for p in src.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(dst) for p in dst.rglob("*")
                           if p.is_file() and p.name != "README.md")
    for rel in files:
        assert (src / rel).read_bytes() == (dst / rel).read_bytes(), rel
