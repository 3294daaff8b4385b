"""Fixtures for the heartbeat lab tests (tests/lab).

All scenarios a test session needs run *concurrently* in one background child process
(threads there, none in pytest's process), each in its own namespaces (prefix
``hbl-p<pid>-<short>``) and subnet. They start as soon as collection is done and the tests
that read them run last, so every other test of the session overlaps with them. Knobs
(environment):

* ``HBLAB_JOBS``: how many scenarios at once (default 0 = all);
* ``HBLAB_OUT``: keep the captures in this folder (default: pytest's tmp dir);
* ``HBLAB_TIMINGS``: write the per-scenario wall times as JSON to this file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from . import hblab, scenarios

LAB_OK, LAB_WHY = hblab.lab_available()
SESSION_TAG = f"p{os.getpid()}"
SESSION_PREFIX = f"{hblab.DEFAULT_PREFIX}{SESSION_TAG}-"

_RUNNER: dict = {}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "lab_scenario(name): the tests/lab scenario whose captured result the test reads")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Remember which scenarios the selected tests need (after -m/-k deselection), and
    run the tests that wait for them last, so the rest of the session overlaps with them."""
    needed = []
    waiting, others = [], []
    for item in items:
        m = item.get_closest_marker("lab_scenario")
        if m is not None and m.args[0] not in needed:
            needed.append(m.args[0])
        uses = "lab_results" in getattr(item, "fixturenames", ())
        (waiting if m is not None or uses else others).append(item)
    items[:] = others + waiting
    config._hblab_needed = needed


def pytest_collection_finish(session):
    """Start the needed scenarios in the background right after collection."""
    config = session.config
    needed = getattr(config, "_hblab_needed", [])
    if not LAB_OK or not needed or config.option.collectonly or "runner" in _RUNNER:
        return
    out = os.environ.get("HBLAB_OUT")
    if out:
        out_dir = Path(out)
    else:
        factory = getattr(config, "_tmp_path_factory", None)
        out_dir = factory.mktemp("hblab") if factory else Path(tempfile.mkdtemp(prefix="hblab-"))
    hblab.cleanup_stale()
    # a child process, not threads: other tests may fork (pyroute2 NetNS) while it runs
    runner = scenarios.ScenarioProcess(needed, out_dir, jobs=int(os.environ.get("HBLAB_JOBS", "0")),
                                       tag=SESSION_TAG)
    _RUNNER["runner"] = runner
    runner.start()


def pytest_sessionfinish(session, exitstatus):
    """Stop and tear down whatever still runs (Ctrl-C, -x, a crash in another test)."""
    runner = _RUNNER.get("runner")
    if runner is not None:
        runner.abort()


@pytest.fixture(scope="session")
def lab_runner():
    """The background ScenarioProcess started after collection."""
    if not LAB_OK:
        pytest.skip(LAB_WHY)
    if "runner" not in _RUNNER:
        pytest.skip("no lab scenario was selected")
    return _RUNNER["runner"]


@pytest.fixture(scope="session")
def lab_results(lab_runner):
    """{scenario name: ScenarioResult} once every needed scenario has finished."""
    if "results" not in _RUNNER:
        _RUNNER["results"] = lab_runner.results()
        _RUNNER["wall_s"] = lab_runner.wall_s
    return _RUNNER["results"]


@pytest.fixture
def result(request, lab_results):
    """The ScenarioResult named by the test's ``lab_scenario`` marker; fails (with the
    scenario's notes and error) when the scenario did not reach its state."""
    m = request.node.get_closest_marker("lab_scenario")
    assert m is not None, "test needs @pytest.mark.lab_scenario(name)"
    res = lab_results.get(m.args[0])
    assert res is not None, f"scenario {m.args[0]} did not run"
    assert res.error is None, f"scenario {res.name} raised:\n{res.error}"
    assert not res.notes, f"scenario {res.name} did not reach its state: {res.notes}"
    return res


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    results = _RUNNER.get("results")
    if not results:
        return
    tr = terminalreporter
    tr.section("heartbeat lab scenarios (wall time, run concurrently)")
    for name, res in sorted(results.items(), key=lambda kv: -kv[1].wall_s):
        state = "ok" if res.reached else f"NOT REACHED {res.notes or res.error}"
        tr.write_line(f"{name:28s} {res.wall_s:6.1f} s  {state}")
    tr.write_line(f"{'all scenarios (wall)':28s} {_RUNNER['wall_s']:6.1f} s")
    path = os.environ.get("HBLAB_TIMINGS")
    if path:
        Path(path).write_text(json.dumps(
            {"total_wall_s": _RUNNER["wall_s"],
             "scenarios": {n: r.wall_s for n, r in results.items()}}, indent=2) + "\n")
