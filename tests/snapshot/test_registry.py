"""The datum registry is the one place that says where each datum comes from; the loaders, the bundle
collector and the manifest view follow it (nothing here is mocked: real sh, real files, real bundle)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys

import pytest

from hadoctor.bundle.scripts import COMMANDS
from hadoctor import datums as registry
from hadoctor.snapshot.loader import load_live, load_node_folder, load_target
from hadoctor.datums import ABSENT, DATUMS, UNREADABLE
from tests.conftest import FIXTURES, REPO


def test_every_command_output_is_a_file_the_folder_loader_reads():
    for spec in DATUMS.values():
        for command in spec.commands:
            assert command.file in spec.files, (spec.name, command.file)
        assert spec.parser or spec.special, spec.name
        assert spec.files, f"{spec.name}: no node-folder file names"


def test_the_bundle_runs_every_datum_command_verbatim():
    bundled = {(name, file, tool, sh) for name, file, tool, sh in COMMANDS}
    for command in registry.all_commands():
        assert (command.item, command.file, command.tool, command.sh) in bundled, command.item


def test_live_host_runs_the_same_sh_as_the_bundle_below_root(tmp_path):
    """os_release and resource_scripts come from commands that honour $R: the live loader runs them
    below --root exactly as the bundle does on a node."""
    root = tmp_path / "root"
    (root / "etc/ha.d/resource.d").mkdir(parents=True)
    (root / "etc/init.d").mkdir(parents=True)
    (root / "etc/os-release").write_text('PRETTY_NAME="CentOS Linux 7 (Core)"\nID="centos"\nVERSION_ID="7"\n')
    script = root / "etc/ha.d/resource.d/IPaddr"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    (root / "etc/init.d/mysql").write_text("#!/bin/sh\n")
    node = load_live(str(root), only=("os_release", "resource_scripts")).nodes[0]
    release = node.find("os_release")
    assert (release.id, release.version_id, release.source) == ("centos", "7", "/etc/os-release")
    scripts = node.find("resource_scripts")
    assert scripts.lookup("IPaddr").executable and not scripts.lookup("mysql").executable
    assert scripts.lookup("IPaddr").path == "/etc/ha.d/resource.d/IPaddr"   # $R stripped, as on a node
    assert node.source("os_release") == "os release"


def test_missing_data_has_a_kind(tmp_path):
    folder = tmp_path / "node01"
    folder.mkdir()
    (folder / "ha.cf").write_text("node node01\n")
    (folder / "haresources").mkdir()        # not a regular file: there, but unreadable
    node = load_node_folder(folder)
    assert node.data["haresources"].kind == UNREADABLE, node.data["haresources"]
    assert node.data["hosts"].kind == ABSENT and node.data["hosts"].missing == "not present in this snapshot"
    assert node.data["ha_cf"].kind == ""     # present


def test_only_loads_what_is_asked_and_never_decodes_an_unread_capture():
    target = str(FIXTURES / "lab" / "healthy")
    full = load_target(target)
    assert all(n.has("wire") for n in full.nodes)
    timeline = load_target(target, only=("log", "ha_cf"))
    for node in timeline.nodes:
        assert "wire" not in node.data and "packages" not in node.data and "firewall" not in node.data
        assert node.has("log") and node.has("ha_cf")
    assert [n.name for n in timeline.nodes] == [n.name for n in full.nodes]


def test_adding_a_datum_os_release_reaches_the_snapshot_from_every_source(tmp_path):
    """The worked example of docs/architecture.md: os_release is one registry entry plus its parser; the
    folder loader reads it, the bundle collects it (the same sh as the live host)."""
    folder = tmp_path / "node01"
    folder.mkdir()
    (folder / "ha.cf").write_text("node node01\n")
    (folder / "os-release.txt").write_text("### /etc/redhat-release\nCentOS release 5.11 (Final)\n")
    node = load_node_folder(folder)
    assert (node.find("os_release").id, node.find("os_release").version_id) == ("centos", "5.11")
    proc = subprocess.run([sys.executable, "-m", "hadoctor", "snapshot", str(folder)], capture_output=True,
                          text=True, cwd=REPO, env=dict(os.environ, COLUMNS="200"))
    assert "CentOS release 5.11 (Final)" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.skipif(shutil.which("tar") is None, reason="bundle create needs tar")
def test_a_bundle_and_the_live_host_give_the_same_command_data(tmp_path):
    """Collected below the same --root on this host, every command datum of the bundle equals the live
    loader's: one sh for both (packages, firewall, boot services, resource scripts, os release, uname)."""
    root = tmp_path / "root"
    (root / "etc/ha.d/resource.d").mkdir(parents=True)
    shutil.copy(FIXTURES / "lab/healthy/node01/ha.cf", root / "etc/ha.d/ha.cf")
    (root / "etc/ha.d/nodeinfo").write_text("node01\n")
    (root / "etc/os-release").write_text("ID=debian\nVERSION_ID=\"12\"\n")
    out = tmp_path / "b.tar.gz"
    proc = subprocess.run([sys.executable, "-m", "hadoctor", "bundle", "create", "--root", str(root), "--node",
                           "node01", "-o", str(out), "--since", "2000-01-01"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    bundled = load_target(str(out)).nodes[0]
    live = load_live(str(root)).nodes[0]
    compared = []
    for spec in DATUMS.values():
        if not spec.commands or spec.live_reader:
            continue
        assert bundled.has(spec.name) == live.has(spec.name), (spec.name, bundled.data[spec.name],
                                                                live.data[spec.name])
        if live.has(spec.name):
            a, b = bundled.find(spec.name), live.find(spec.name)
            if hasattr(a, "to_dict"):
                a, b = a.to_dict(), b.to_dict()
                a.pop("path", None), b.pop("path", None)
                for d in (a, b):  # problems name the file they came from
                    d["problems"] = [{k: v for k, v in p.items() if k != "file"} for p in d.get("problems", [])]
            assert a == b, spec.name
            compared.append(spec.name)
    assert {"os_release", "resource_scripts", "uname"} <= set(compared), compared


def test_probe_listen_reads_ha_cf_below_root(tmp_path):
    root = tmp_path / "root"
    (root / "etc/ha.d").mkdir(parents=True)
    (root / "etc/ha.d/ha.cf").write_text("udpport 700\nbcast eth0\nnode alpha\nnode beta\n")
    pcap = FIXTURES / "lab" / "healthy" / "heartbeat.pcap"
    proc = subprocess.run([sys.executable, "-m", "hadoctor", "probe", "listen", "--root", str(root), "--pcap", str(pcap),
                           "--format", "json"], capture_output=True, text=True, cwd=REPO)
    import json

    doc = json.loads(proc.stdout)
    assert doc["summary"]["nodes"] == ["alpha", "beta"]     # from the ha.cf below --root, not /etc/ha.d


def test_no_node_path_literal_outside_the_registry():
    """Paths on nodes are named once (the registry; ResourceManager's search path in the script parser, which
    the registry takes); docstrings, --help texts and the catalogue's samples of heartbeat's own log
    lines may mention them."""
    import ast
    import re

    literal = re.compile(r"/etc/ha\.d|/etc/hosts\b|/etc/asterisk")
    offenders = []
    for path in (REPO / "hadoctor").rglob("*.py"):
        if path.relative_to(REPO).as_posix() in ("hadoctor/datums.py", "hadoctor/parsers/scripts.py") \
                or path.parent.name == "catalogue":
            continue
        tree = ast.parse(path.read_text())
        exempt = set()
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                    and isinstance(body[0].value, ast.Constant):
                exempt.add(id(body[0].value))                       # a docstring
            if isinstance(node, ast.keyword) and node.arg == "help" or isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id.endswith("HELP") for t in node.targets):
                exempt |= {id(n) for n in ast.walk(node.value)}      # a --help text
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in exempt \
                    and literal.search(node.value):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value[:80]!r}")
    assert not offenders, "\n".join(offenders)
