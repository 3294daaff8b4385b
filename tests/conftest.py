"""Shared test fixtures.

The compatibility corpus (real files written by other people, with their attributions in
``SOURCES.md`` and what each shows in ``EXPECTED.md``) is part of the repository, in
``tests/fixtures/corpus``, so a plain clone runs every corpus test.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
CORPUS = FIXTURES / "corpus"


def corpus_root() -> Path:
    return CORPUS


def corpus_files(kind: str) -> list[Path]:
    """Every corpus file of one kind (``ha.cf``, ``haresources``, ``authkeys``, ``logs``, ``ip-a``)."""
    return sorted(p for p in (corpus_root() / kind).iterdir() if p.is_file())


@pytest.fixture(scope="session", autouse=True)
def _captures_dated_when_captured():
    """Every capture (tests/fixtures/lab/*, examples/*) gets its files' mtime back: its scenario.json's
    ``captured_at``. Year-less log times ("Nov 25 09:19:07") take their year from the log's mtime, and
    a checkout's mtime is the day of the clone, so without this a clone made after the next Nov 25
    would read a log without a full date a year late (the day a copy with its times kept would not)."""
    for scenario in sorted([*FIXTURES.glob("lab/*/scenario.json"), *(REPO / "examples").glob("*/scenario.json")]):
        stamp = datetime.fromisoformat(json.loads(scenario.read_bytes())["captured_at"]).timestamp()
        for path in scenario.parent.rglob("*"):
            try:
                if path.is_file() and path.stat().st_mtime != stamp:
                    os.utime(path, (stamp, stamp))
            except OSError:  # a read-only checkout keeps its times: fine until the next Nov 25
                pass


@pytest.fixture(autouse=True)
def _strict_rules(monkeypatch):
    """Every test runs strict: a rule that crashes raises (and fails the test) instead of turning into a
    "the rule crashed" skip that an assertion might not look at. Subprocesses inherit it. A test of the
    non-strict behaviour passes ``strict=False`` or removes the variable from the child's environment."""
    monkeypatch.setenv("HADOCTOR_STRICT", "1")


@pytest.fixture
def corpus() -> Path:
    return corpus_root()


def corpus_params(kind: str):
    """pytest parameters for every corpus file of a kind."""
    files = corpus_files(kind)
    assert files, f"corpus folder {corpus_root() / kind} is empty or missing"
    return [pytest.param(p, id=p.name) for p in files]


def mutated_corpus(kind: str, alphabet: bytes):
    """A hypothesis strategy: a corpus file of ``kind`` with 1-6 bytes inserted, replaced or deleted
    (bytes drawn from ``alphabet``, the characters its parser cares about, or any byte)."""
    from hypothesis import strategies as st

    @st.composite
    def strategy(draw):
        data = bytearray(draw(st.sampled_from(corpus_files(kind))).read_bytes())
        for _ in range(draw(st.integers(1, 6))):
            position = draw(st.integers(0, len(data)))
            byte = draw(st.sampled_from(alphabet) | st.integers(0, 255))
            action = draw(st.sampled_from(("insert", "replace", "delete")))
            if action == "insert" or position >= len(data):
                data.insert(position, byte)
            elif action == "replace":
                data[position] = byte
            else:
                del data[position]
        return bytes(data)

    return strategy()
