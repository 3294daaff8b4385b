"""Shared test fixtures.

The compatibility corpus (real files written by other people) lives outside the
repo, in ``../shared/corpus``; set ``HADOCTOR_CORPUS`` to point elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"


def corpus_root() -> Path:
    return Path(os.environ.get("HADOCTOR_CORPUS", REPO.parent / "shared" / "corpus"))


def corpus_files(kind: str) -> list[Path]:
    """Every corpus file of one kind (``ha.cf``, ``haresources``, ``authkeys``, ``logs``, ``ip-a``)."""
    folder = corpus_root() / kind
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


@pytest.fixture
def corpus() -> Path:
    root = corpus_root()
    if not root.is_dir():
        pytest.skip(f"corpus not found at {root} (set HADOCTOR_CORPUS to the shared/corpus folder)")
    return root


def corpus_params(kind: str):
    """pytest parameters for every corpus file of a kind; one explicit skip when the corpus is absent."""
    files = corpus_files(kind)
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(
            reason=f"corpus folder {corpus_root() / kind} not found (set HADOCTOR_CORPUS)"))]
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
