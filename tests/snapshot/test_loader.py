"""Snapshots from node folders and from a live root: what is read, from where, names, missing data."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys

import pytest

from hadoctor.errors import InputError
from hadoctor.snapshot.loader import load_live, load_target
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "healthy"


def test_example_folder_has_every_core_datum():
    cluster = load_target(str(EXAMPLE))
    assert cluster.context == "folder" and cluster.node_names == ["node01", "node02"]
    for node in cluster.nodes:
        for datum in ("ha_cf", "haresources", "authkeys", "log", "addresses", "packages", "uname", "firewall"):
            assert node.has(datum), (node.name, datum, node.data.get(datum))
        assert node.get("authkeys").mode == 0o600
        assert node.source("ha_cf").endswith(f"{node.name}/ha.cf")
        assert node.get("packages").version_of("heartbeat") is not None


def test_single_node_folder(tmp_path):
    shutil.copytree(EXAMPLE / "node02", tmp_path / "n")
    cluster = load_target(str(tmp_path / "n"))
    assert cluster.node_names == ["node02"]  # from uname-n.txt, not the folder name "n"
    assert any("holds node 'node02'" in note for note in cluster.nodes[0].notes)


def test_name_from_log_when_no_uname(tmp_path):
    folder = tmp_path / "first"
    folder.mkdir()
    (folder / "heartbeat.log").write_text(
        "Nov 25 07:34:40 nodea heartbeat: [2129]: info: Configuration validated. Starting heartbeat 3.0.6\n"
        "Nov 25 07:34:41 nodea heartbeat: [2129]: info: Link nodeb:eth1 up.\n")
    node = load_target(str(tmp_path)).nodes[0]
    assert node.name == "nodea"
    assert node.missing()["ha_cf"] == "not present in this snapshot"


def test_name_from_hacf_when_folder_matches(tmp_path):
    folder = tmp_path / "Node02"
    folder.mkdir()
    (folder / "ha.cf").write_text("node node01\nnode node02\nbcast eth0\n")
    assert load_target(str(tmp_path)).node_names == ["node02"]


def test_log_named_by_hacf_and_rotated_files(tmp_path):
    folder = tmp_path / "node01"
    folder.mkdir()
    (folder / "ha.cf").write_text("logfile /var/log/ha-log\nnode node01\nbcast eth0\n")
    (folder / "ha-log").write_text("Nov 25 07:40:00 node01 heartbeat: [1]: info: new\n")
    (folder / "ha-log.1.gz").write_bytes(gzip.compress(b"Nov 24 07:40:00 node01 heartbeat: [1]: info: old\n"))
    node = load_target(str(tmp_path)).nodes[0]
    log = node.get("log")
    assert [os.path.basename(p) for p in log.paths] == ["ha-log.1.gz", "ha-log"]
    assert [r.message for r in log.records()] == ["old", "new"]


def test_unreadable_datum_is_missing_with_reason(tmp_path):
    folder = tmp_path / "node01"
    folder.mkdir()
    (folder / "ha.cf").write_bytes(bytes(range(256)) * 10)
    (folder / "haresources").write_text("node01 10.0.0.9\n")
    node = load_target(str(tmp_path)).nodes[0]
    assert "binary" in node.missing()["ha_cf"]
    assert node.has("haresources")


def test_authkeys_mode_from_stat_file_and_key_never_exposed(tmp_path):
    shutil.copytree(EXAMPLE, tmp_path / "c")
    (tmp_path / "c" / "node01" / "authkeys.stat").write_text("644 root root\n")
    node = load_target(str(tmp_path / "c")).node("node01")
    keys = node.get("authkeys")
    assert keys.mode == 0o644
    secret = keys.active.key.reveal()
    for text in (repr(keys), str(keys.to_dict()), repr(node)):
        assert secret not in text


def test_target_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_target(str(tmp_path / "nope"))
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        load_target(str(tmp_path / "f"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no node folder"):
        load_target(str(tmp_path / "empty"))


def test_live_host_below_a_root(tmp_path):
    """The live loader reads /etc/ha.d etc. below --root, addresses from netlink, and names the node."""
    etc = tmp_path / "etc" / "ha.d"
    shutil.copytree(EXAMPLE / "node01", etc, ignore=shutil.ignore_patterns("*.txt", "*.json", "heartbeat.log"))
    (etc / "authkeys").chmod(0o600)
    (etc / "nodeinfo").write_text("node01\n")
    (tmp_path / "var" / "log").mkdir(parents=True)
    shutil.copy(EXAMPLE / "node01" / "heartbeat.log", tmp_path / "var" / "log" / "heartbeat.log")
    cluster = load_live(str(tmp_path))
    node = cluster.nodes[0]
    assert cluster.context == "live" and node.name == "node01"
    assert node.get("authkeys").mode == 0o600 and node.get("authkeys").owner
    assert node.source("log").endswith("var/log/heartbeat.log")
    addresses = node.get("addresses")  # this host's own interfaces, through netlink
    assert addresses.get("lo") is not None
    assert node.has("resource_scripts")


def test_snapshot_command_json(tmp_path):
    import json

    proc = subprocess.run([sys.executable, "-m", "hadoctor", "snapshot", str(EXAMPLE), "--format", "json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [n["name"] for n in doc["nodes"]] == ["node01", "node02"]
    assert doc["nodes"][0]["data"]["ha_cf"]["value"]["nodes"]
    assert "lab-fixture-key-not-secret" not in proc.stdout
