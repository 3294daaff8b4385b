"""``check --format prometheus``: the text exposition format checked by Prometheus's own parser
(``promtool check metrics``), the atomic ``--output`` file, and a real scrape: Debian's
node_exporter (textfile collector) and Prometheus on loopback, queried over Prometheus's HTTP API."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from hadoctor.rulemodel import Evidence, Finding
from hadoctor.report.prometheus import render_prometheus
from hadoctor.report.result import ClusterResult
from tests.monitoring.helpers import EXAMPLES, fleet, hadoctor

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
NODE_EXPORTER = shutil.which("prometheus-node-exporter")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not found: CI installs Debian's "
                                                             "`prometheus` package (test.sh) for this check")


def promtool(text: str) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)


def series(text: str, name: str) -> list:
    return [line for line in text.splitlines() if line.startswith(name + "{") or line.startswith(name + " ")]


@needs_promtool
def test_split_brain_metrics_pass_promtool():
    proc = hadoctor("check", EXAMPLES / "split-brain", "--format", "prometheus")
    assert proc.returncode == 1, proc.stderr
    lint = promtool(proc.stdout)
    assert lint.returncode == 0 and lint.stdout + lint.stderr == "", lint.stdout + lint.stderr
    text = proc.stdout
    assert 'hadoctor_finding{cluster="split-brain",node="node01",code="XND001",severity="error",when="now"} 1' in text
    assert 'hadoctor_finding{cluster="split-brain",node="node02",code="LOG011",severity="warning",when="past"} 1' in text
    assert 'hadoctor_findings{cluster="split-brain",severity="error"} 3' in text
    assert 'hadoctor_check_success{cluster="split-brain"} 1' in text
    # the log's end: both links to the peer dead, the peer dead, a takeover
    assert 'hadoctor_heartbeat_link_up{cluster="split-brain",node="node01",peer="node02",interface="eth1"} 0' in text
    assert 'hadoctor_heartbeat_peer_up{cluster="split-brain",node="node02",peer="node01"} 0' in text
    assert len(series(text, "hadoctor_last_takeover_timestamp_seconds")) == 2
    assert series(text, "hadoctor_check_duration_seconds")
    for line in text.splitlines():  # no timestamps: the textfile collector refuses them
        assert line.startswith("#") or len(line.rsplit("} ", 1)[-1].split()) == 1


@needs_promtool
def test_healthy_links_up():
    text = hadoctor("check", EXAMPLES / "healthy", "--format", "prometheus").stdout
    assert promtool(text).returncode == 0
    assert not series(text, "hadoctor_finding")
    ups = series(text, "hadoctor_heartbeat_link_up")
    assert ups and all(line.endswith(" 1") for line in ups)
    assert not series(text, "hadoctor_last_takeover_timestamp_seconds")


@needs_promtool
def test_hostile_names_are_escaped():
    f = Finding("NET003", "t", "error", "fail", "msg", 'no"de\\1\n')
    text = render_prometheus([ClusterResult('c"\\\n', "c", findings=[f], nodes=['no"de\\1\n'])], "0.1")
    assert promtool(text).returncode == 0
    assert 'node="no\\"de\\\\1\\n"' in text


@needs_promtool
def test_fleet_metrics_and_input_errors(tmp_path):
    proc = hadoctor("check", fleet(tmp_path), "--format", "prometheus")
    assert proc.returncode == 1
    assert promtool(proc.stdout).returncode == 0
    assert 'hadoctor_check_success{cluster="broken"} 0' in proc.stdout
    assert 'hadoctor_check_success{cluster="site-c"} 0' in proc.stdout  # node02 lacks its log
    assert 'hadoctor_node_core_data_present{cluster="site-c",node="node02",datum="log"} 0' in proc.stdout
    assert proc.stdout.count("# TYPE hadoctor_finding gauge") == 1
    bad = hadoctor("check", tmp_path / "nothing-here", "--format", "prometheus")
    assert bad.returncode == 2 and "no such file" in bad.stderr
    assert 'hadoctor_check_success{cluster="nothing-here"} 0' in bad.stdout and promtool(bad.stdout).returncode == 0


def test_output_is_written_atomically(tmp_path):
    out = tmp_path / "textfile" / "hadoctor.prom"
    out.parent.mkdir()
    out.write_text("old\n")
    proc = hadoctor("check", EXAMPLES / "split-brain", "--format", "prometheus", "--output", out)
    assert proc.returncode == 1 and proc.stdout == ""
    assert out.read_text().startswith("# HELP hadoctor_check_success")
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert os.listdir(out.parent) == ["hadoctor.prom"]  # no temp file left behind
    proc = hadoctor("check", EXAMPLES / "split-brain", "--format", "prometheus", "--output", tmp_path / "no" / "x.prom")
    assert proc.returncode == 2 and "cannot write" in proc.stderr
    proc = hadoctor("check", EXAMPLES / "split-brain", "--output", out)
    assert proc.returncode == 2 and "--output needs a machine format" in proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:  # loopback only
        return json.loads(resp.read())


@pytest.mark.skipif(not (PROMETHEUS and NODE_EXPORTER),
                    reason="Debian's `prometheus` and `prometheus-node-exporter` are not installed (test.sh installs "
                           "them as root)")
def test_node_exporter_textfile_scraped_by_prometheus(tmp_path):
    textdir = tmp_path / "textfile"
    textdir.mkdir()
    proc = hadoctor("check", EXAMPLES / "split-brain", "--format", "prometheus", "--output", textdir / "hadoctor.prom")
    assert proc.returncode == 1, proc.stderr
    ne_port, prom_port = _free_port(), _free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: node\n    static_configs:\n"
                      f"      - targets: ['127.0.0.1:{ne_port}']\n")
    procs = []
    try:
        procs.append(subprocess.Popen(
            [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{ne_port}", "--collector.disable-defaults",
             "--collector.textfile", f"--collector.textfile.directory={textdir}"],
            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "node_exporter.log", "wb")))
        procs.append(subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{prom_port}"],
            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "wb"), cwd=tmp_path))
        query = 'hadoctor_finding{code="XND001"}'
        url = f"http://127.0.0.1:{prom_port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
        deadline = time.monotonic() + 90
        result = []
        while time.monotonic() < deadline and not result:
            time.sleep(1)
            try:
                result = _get(url)["data"]["result"]
            except OSError:
                continue
        assert result, (tmp_path / "prometheus.log").read_text()[-2000:]
        labels = sorted((r["metric"]["node"], r["metric"]["severity"], r["metric"]["cluster"], r["value"][1])
                        for r in result)
        assert labels == [("node01", "error", "split-brain", "1"), ("node02", "error", "split-brain", "1")]
        assert all(r["metric"]["job"] == "node" for r in result)
        scraped = {name: _get(f"http://127.0.0.1:{prom_port}/api/v1/query?query={name}")["data"]["result"]
                   for name in ("hadoctor_check_success", "node_textfile_scrape_error",
                                "hadoctor_heartbeat_link_up", "hadoctor_last_takeover_timestamp_seconds")}
        assert [r["value"][1] for r in scraped["hadoctor_check_success"]] == ["1"]
        assert [r["value"][1] for r in scraped["node_textfile_scrape_error"]] == ["0"]
        assert len(scraped["hadoctor_heartbeat_link_up"]) == 4
        assert {r["value"][1] for r in scraped["hadoctor_last_takeover_timestamp_seconds"]} == {
            str(int(float(line.rsplit(" ", 1)[1]))) for line in
            series((textdir / "hadoctor.prom").read_text(), "hadoctor_last_takeover_timestamp_seconds")}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
