"""hadoctor timeline on the real lab captures (tests/fixtures/lab)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from hadoctor.timeline.build import build_timeline, to_ts
from hadoctor.report.timeline import render_html, render_svg
from tests.conftest import REPO

LAB = REPO / "tests" / "fixtures" / "lab"


def scenario(name: str) -> dict:
    return json.loads((LAB / name / "scenario.json").read_text())


def utc_naive(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=None)  # the lab logs are written in UTC


def event(name: str, kind: str) -> dict:
    return next(e for e in scenario(name)["events"] if e["event"] == kind)


def run(*args):
    return subprocess.run([sys.executable, "-m", "hadoctor", "timeline", *map(str, args)],
                          capture_output=True, text=True, cwd=REPO)


def test_failover_ownership_moves_within_deadtime():
    tl = build_timeline(str(LAB / "failover"))
    try:
        crash = to_ts(utc_naive(event("failover", "crash")["t"]))
        deadtime = 5.0
        node02 = [i for i in tl.ownership if i.node == "node02"]
        assert node02 and node02[0].open
        assert 0 <= node02[0].start - crash <= deadtime + 1.0
        node01 = [i for i in tl.ownership if i.node == "node01"]
        assert node01 and not node01[-1].open and node01[-1].end <= crash + 1.0
        assert "declared dead" in node01[-1].end_reason
        assert not tl.overlaps
        assert len(tl.outages) == 1 and tl.outages[0].seconds <= deadtime + 1.0
        expected = scenario("failover")["expected"]["vip_holders"]
        assert [i.node for i in tl.ownership if i.open] == expected
    finally:
        tl.close()


def test_split_brain_overlap_reported():
    tl = build_timeline(str(LAB / "split-brain"))
    try:
        assert len(tl.overlaps) == 1
        window = tl.overlaps[0]
        assert window.nodes == ["node01", "node02"] and window.open
        partition = to_ts(utc_naive(event("split-brain", "partition")["t"]))
        assert partition <= window.start <= partition + 5 + 2
        assert sorted(i.node for i in tl.ownership if i.open) == scenario("split-brain")["expected"]["vip_holders"]
    finally:
        tl.close()


def test_frozen_node_overlap_then_recovers_to_node01():
    tl = build_timeline(str(LAB / "frozen-node"))
    try:
        kinds = {(e.node, e.kind) for _, e in tl.events()}
        assert ("node02", "partition_return") in kinds and ("node01", "both_own") in kinds
        assert ("node01", "late_heartbeat") in kinds and ("node01", "dispatch_delay") in kinds
        freeze = to_ts(utc_naive(event("frozen-node", "freeze")["t"]))
        thaw = to_ts(utc_naive(event("frozen-node", "thaw")["t"]))
        assert len(tl.overlaps) == 1
        w = tl.overlaps[0]
        assert freeze < w.start < thaw and not w.open
        assert [i.node for i in tl.ownership if i.open] == scenario("frozen-node")["expected"]["vip_holders"]
    finally:
        tl.close()


_SYSLOG = re.compile(rb"^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)")
_FULL = re.compile(rb"^(\d{4}/\d\d/\d\d_\d\d:\d\d:\d\d)")


def shift_log(src: Path, dst: Path, seconds: int) -> None:
    """Rewrite the timestamp of every line by ``seconds``."""
    out = []
    for line in src.read_bytes().splitlines(keepends=True):
        m = _SYSLOG.match(line)
        if m:
            t = datetime.strptime("2026 " + m.group(1).decode(), "%Y %b %d %H:%M:%S") + timedelta(seconds=seconds)
            line = t.strftime("%b %d %H:%M:%S").encode() + line[m.end():]
        else:
            m = _FULL.match(line)
            if m:
                t = datetime.strptime(m.group(1).decode(), "%Y/%m/%d_%H:%M:%S") + timedelta(seconds=seconds)
                line = t.strftime("%Y/%m/%d_%H:%M:%S").encode() + line[m.end():]
        out.append(line)
    dst.write_bytes(b"".join(out))


@pytest.mark.parametrize("name", ["failover", "frozen-node", "graceful-stop"])
def test_skew_of_90s_detected_and_corrected(tmp_path, name):
    target = tmp_path / name
    shutil.copytree(LAB / name, target)
    shift_log(LAB / name / "node02" / "heartbeat.log", target / "node02" / "heartbeat.log", 90)
    plain = build_timeline(str(LAB / name))
    tl = build_timeline(str(target))
    raw = build_timeline(str(target), skew_correction=False)
    try:
        node02 = next(n for n in tl.nodes if n.name == "node02")
        assert abs(node02.estimated - 90) <= 2, node02
        assert abs(node02.offset_s - 90) <= 2
        # corrected ownership matches the unshifted capture within 2 s
        for a, b in zip(plain.ownership, tl.ownership):
            assert (a.node, a.subject) == (b.node, b.subject)
            assert abs(a.start - b.start) <= 2 and abs(a.end - b.end) <= 2
        assert next(n for n in raw.nodes if n.name == "node02").offset_s == 0
    finally:
        plain.close(), tl.close(), raw.close()


def test_svg_well_formed_one_lane_per_node(tmp_path):
    out = tmp_path / "t.svg"
    proc = run(LAB / "frozen-node", "--svg", out)
    assert proc.returncode == 0, proc.stderr
    root = ET.parse(out).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    lanes = [g for g in root.iter(ns + "g") if g.get("class") == "lane"]
    assert [g.get("data-node") for g in lanes] == ["node01", "node02"]
    assert root.iter(ns + "title")
    assert "http" not in out.read_text().replace("http://www.w3.org/2000/svg", "").replace(
        "http://linux-ha.org", "")


def test_svg_aggregates_dense_markers():
    tl = build_timeline(str(LAB / "frozen-node"))
    try:
        svg = render_svg(tl)
        markers = svg.count('class="ev"')
        assert markers < sum(n.events for n in tl.nodes)  # several events per pixel column share one marker
        assert " events " in svg
        ET.fromstring(render_html(tl).split("<body>", 1)[1].split("<h2>", 1)[0].split("</ul>", 1)[1])
    finally:
        tl.close()


def test_json_schema():
    proc = run(LAB / "split-brain", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "hadoctor-timeline/1"
    assert set(doc) == {"schema", "target", "range", "skew", "nodes", "notes", "events", "groups", "running",
                        "links", "ownership", "outages", "overlaps"}
    assert doc["notes"] == []
    assert {n["name"] for n in doc["nodes"]} == {"node01", "node02"}
    ev = doc["events"][0]
    assert set(ev) == {"time", "node_time", "node", "kind", "severity", "subject", "detail", "file", "line"}
    times = [e["time"] for e in doc["events"]]
    assert times == sorted(times)
    assert doc["overlaps"][0]["nodes"] == ["node01", "node02"]
    own = doc["ownership"][0]
    assert {"group", "node", "start", "end", "seconds", "end_reason", "open"} <= set(own)


def test_since_until_window():
    proc = run(LAB / "failover", "-f", "json", "--since", "2026-11-25 09:19:26", "--until", "2026-11-25 09:19:27")
    doc = json.loads(proc.stdout)
    assert doc["events"] and all("09:19:26" <= e["time"][11:] <= "09:19:27" for e in doc["events"])


@pytest.mark.parametrize("args, needle", [
    (["/nonexistent/cluster"], "no such file"),
    ([str(LAB / "failover"), "--since", "yesterday-ish"], "not a date"),
    ([str(LAB / "failover"), "--svg", "a.svg", "--html", "a.html"], "exclusive"),
])
def test_bad_input_exit_2(args, needle):
    proc = run(*args)
    assert proc.returncode == 2
    assert "hadoctor: error:" in proc.stderr and needle in proc.stderr


def test_log_without_events_exit_2(tmp_path):
    node = tmp_path / "node01"
    shutil.copytree(LAB / "failover" / "node01", node)
    (node / "heartbeat.log").write_text("nothing to see here\n")
    proc = run(tmp_path)
    assert proc.returncode == 2 and "no recognisable heartbeat event" in proc.stderr


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (/usr/bin/chromium); "
                                                         "CI needs the `chromium` package for the render test")
@pytest.mark.parametrize("kind", ["svg", "html"])
def test_headless_render(tmp_path, kind):
    out = tmp_path / f"t.{kind}"
    assert run(LAB / "frozen-node", f"--{kind}", out).returncode == 0
    png = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={png}",
                    "--window-size=1400,900", out.as_uri()], capture_output=True, timeout=120)
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
