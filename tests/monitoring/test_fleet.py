"""``hadoctor check FLEET``: a folder of cluster folders and bundles, checked in parallel, summarised
as a table, fleet JSON, and a self-contained HTML page rendered in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from hadoctor.fleet import check_fleet, fleet_members
from hadoctor.report.fleet import age
from tests.monitoring.helpers import EXAMPLES, fleet, hadoctor

CHROMIUM = "/usr/bin/chromium"


def test_members_and_ordinary_targets(tmp_path):
    root = fleet(tmp_path)
    assert [Path(m).name for m in fleet_members(str(root))] == ["broken.tar.gz", "site-a", "site-b", "site-c"]
    assert fleet_members(str(EXAMPLES / "split-brain")) is None  # a cluster folder is not a fleet
    assert fleet_members(str(EXAMPLES / "split-brain" / "node01")) is None
    (tmp_path / "empty").mkdir()
    assert fleet_members(str(tmp_path / "empty")) is None


def test_table_worst_first(tmp_path):
    root = fleet(tmp_path)
    old = time.time() - 3 * 3600 - 60
    for p in (root / "site-b").rglob("*"):
        os.utime(p, (old, old))
    proc = hadoctor("check", root)
    assert proc.returncode == 1, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("│ ")]
    names = [r.split("│")[1].strip() for r in rows if r.split("│")[1].strip()]
    assert names == ["broken", "site-a", "site-c", "site-b"]
    site_a = next(r for r in rows if "site-a" in r)
    assert "error" in site_a and "NET003" in site_a and "XND001" in site_a
    site_b = next(r for r in rows if "site-b" in r)
    assert " ok " in site_b and "│ 3h" in site_b
    assert "incomplete" in next(r for r in rows if "site-c" in r)
    assert len(rows) == 4  # in a pipe a row is one line (no hard wrap: hadoctor/terminal.py)


def test_fleet_json_and_exit_codes(tmp_path):
    root = fleet(tmp_path)
    doc = json.loads(hadoctor("check", root, "--format", "json").stdout)
    assert doc["schema"] == "hadoctor-fleet/1" and doc["exit_code"] == 1
    by = {c["name"]: c for c in doc["clusters"]}
    assert by["broken"]["verdict"] == "unreadable" and "broken.tar.gz" in by["broken"]["error"]
    assert by["site-a"]["codes"] == ["LOG011", "NET003", "XND001", "XND002"]
    assert by["site-c"]["incomplete"] == {"node02": ["log"]}
    assert by["site-b"]["verdict"] == "ok" and by["site-b"]["exit_code"] == 0
    (root / "broken.tar.gz").unlink()
    (root / "site-a").rename(tmp_path / "site-a")
    assert hadoctor("check", root).returncode == 3  # only the incomplete cluster is left
    (root / "site-c").rename(tmp_path / "site-c")
    assert hadoctor("check", root).returncode == 0


def test_parallel_equals_serial(tmp_path):
    from hadoctor.engine import discovery

    root = fleet(tmp_path)
    members = fleet_members(str(root))
    rules = discovery.all_rules([])
    one = check_fleet(members, (rules, [], rules), fail_on="warning", with_log_state=False, jobs=1)
    two = check_fleet(members, (rules, [], rules), fail_on="warning", with_log_state=False, jobs=2)
    key = [(r.name, r.error, r.exit_code, [(f.code, f.node, f.message) for f in r.findings]) for r in one]
    assert key == [(r.name, r.error, r.exit_code, [(f.code, f.node, f.message) for f in r.findings]) for r in two]


def test_age():
    assert [age(None, 0), age(100, 145), age(0, 600), age(0, 7200), age(0, 3 * 86400)] == ["-", "45s", "10m", "2h", "3d"]


def test_html_is_self_contained_and_escaped(tmp_path):
    root = fleet(tmp_path)
    (root / "site-a").rename(root / "<img src=x onerror=alert(1)>")
    page = tmp_path / "fleet.html"
    proc = hadoctor("check", root, "--html", page)
    assert proc.returncode == 1
    html = page.read_text()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "default-src 'none'" in html
    assert html.index("broken") < html.index("&lt;img") < html.index("site-c") < html.index("site-b")
    assert hadoctor("check", EXAMPLES / "healthy", "--html", page).returncode == 2


def _chromium(*args, tmp_path: Path) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--no-first-run",
                           f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (/usr/bin/chromium); "
                                                         "test.sh installs it as root for the render test")
def test_html_in_headless_chromium(tmp_path):
    root = fleet(tmp_path)
    page = tmp_path / "fleet.html"
    assert hadoctor("check", root, "--html", page).returncode == 1
    png = tmp_path / "fleet.png"
    _chromium(f"--screenshot={png}", "--window-size=1200,800", page.as_uri(), tmp_path=tmp_path)
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    # the script ran: all four clusters counted; the code filter from the address hides the others
    dom = _chromium("--dump-dom", page.as_uri(), tmp_path=tmp_path).stdout
    assert '<span id="shown">4</span>' in dom
    dom = _chromium("--dump-dom", page.as_uri() + "#code=XND001", tmp_path=tmp_path).stdout
    assert '<span id="shown">1</span>' in dom
    visible = re.findall(r'<details class="cluster[^"]*" data-codes="[^"]*"( hidden="")?( open="")?>', dom)
    assert sorted(visible) == [("", ' open=""'), (' hidden=""', ""), (' hidden=""', ""), (' hidden=""', "")]
