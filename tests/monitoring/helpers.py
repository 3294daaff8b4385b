"""Running hadoctor as a user would, for the monitoring and fleet tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def hadoctor(*args, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="100")
    return subprocess.run([sys.executable, "-m", "hadoctor", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=kw.pop("timeout", 120), cwd=kw.pop("cwd", REPO), **kw)


def fleet(tmp_path: Path) -> Path:
    """A fleet folder: a split-brain cluster, a healthy one, one with a node lacking its log, a bad bundle."""
    root = tmp_path / "fleet"
    root.mkdir()
    shutil.copytree(EXAMPLES / "split-brain", root / "site-a")
    shutil.copytree(EXAMPLES / "healthy", root / "site-b")
    shutil.copytree(EXAMPLES / "healthy", root / "site-c")
    (root / "site-c" / "node02" / "heartbeat.log").unlink()
    (root / "broken.tar.gz").write_bytes(b"\x1f\x8b\x08\x00 truncated")
    return root
