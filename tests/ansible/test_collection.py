"""The Ansible collection builds with ansible-galaxy, documents its module, and passes ansible-lint.
(The real run against lab nodes is tests/lab/test_ansible.py.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COLLECTION = REPO / "ansible" / "ansible_collections" / "hadoctor" / "heartbeat"
GALAXY = shutil.which("ansible-galaxy")
LINT = shutil.which("ansible-lint")
DOC = shutil.which("ansible-doc")
pytestmark = pytest.mark.skipif(GALAXY is None, reason="ansible-core is not installed (the test extra installs it)")


def _env(tmp_path: Path, collections: Path) -> dict:
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_HOME=str(tmp_path / "home"),
                ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), NO_COLOR="1", PYTHONPATH=str(REPO))


def test_build(tmp_path):
    proc = subprocess.run([GALAXY, "collection", "build", str(COLLECTION), "--output-path", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env=_env(tmp_path, REPO / "ansible"))
    assert proc.returncode == 0, proc.stderr
    built = tmp_path / "hadoctor-heartbeat-0.1.0.tar.gz"
    with tarfile.open(built) as tar:
        names = set(tar.getnames())
    for member in ("MANIFEST.json", "plugins/action/collect.py", "plugins/modules/collect.py",
                   "roles/hadoctor/tasks/main.yml", "playbooks/fleet_check.yml", "meta/runtime.yml"):
        assert member in names, member


@pytest.mark.skipif(DOC is None, reason="ansible-doc not found")
def test_module_documentation(tmp_path):
    proc = subprocess.run([DOC, "-t", "module", "hadoctor.heartbeat.collect"], capture_output=True, text=True,
                          timeout=120, env=_env(tmp_path, REPO / "ansible"))
    assert proc.returncode == 0, proc.stderr
    assert "no Python" in proc.stdout and "dest" in proc.stdout


@pytest.mark.skipif(LINT is None, reason="ansible-lint is not installed (the test extra installs it)")
def test_ansible_lint_production_profile(tmp_path):
    # a copy outside the repository's git tree: ansible-lint then lints the collection alone
    root = tmp_path / "ansible_collections" / "hadoctor" / "heartbeat"
    shutil.copytree(COLLECTION, root)
    proc = subprocess.run([LINT, "--offline", "--nocolor", "--profile", "production"], cwd=root, capture_output=True,
                          text=True, timeout=300, env=_env(tmp_path, tmp_path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "0 failure(s), 0 warning(s)" in proc.stdout + proc.stderr
