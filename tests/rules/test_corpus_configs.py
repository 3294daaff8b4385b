"""The corpus through the rules: EXPECTED.md's config-level diagnoses are found, and configs it does not
list as broken give no error-level finding."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hadoctor.engine import discovery
from hadoctor.engine.runner import run
from hadoctor.snapshot.loader import load_target
from tests.conftest import corpus_params

#: corpus files EXPECTED.md (or SOURCES.md) names as broken, with the rule that must say so
EXPECTED_ERRORS = {
    "ha.cf/005-asterisk-typo-undport-local10.cf": "CFG001",      # undport typo, local10
    "ha.cf/015-zongyu-centos7-ucast-ens33-slashcomments.cf": "CFG001",  # '//' lines
    "ha.cf/017-linuxzen-master-bcast-watchdog-twice.cf": "CFG001",  # duplicate watchdog
    "ha.cf/024-ivpusic-ms-units-udpport-after-bcast.cf": "CFG202",  # udpport after bcast
    "ha.cf/037-node01-mcast-crm-pipe-garbage.cf": "CFG001",      # 'crm |no', prose line
    "ha.cf/040-deimos-v2-no-media-no-timers.cf": "CFG203",       # no media
    "ha.cf/042-linbit-drbd83-guide-mcast-missing-group.cf": "CFG001",  # mcast without group
    # SOURCES.md: templates kept as found, "not a valid ha.cf by itself"
    "ha.cf/032-chef-boneyard-TEMPLATE-erb.cf": "CFG001",
    "ha.cf/034-angelfreak-TEMPLATE-j2.cf": "CFG001",
    # SOURCES.md: the stock sample with everything commented out: heartbeat refuses it (no node, no media)
    "ha.cf/027-upstream-heartbeat-doc-sample-all-commented.cf": "CFG203",
    "haresources/001-amara-jinja-template": "CFG003",
    "haresources/018-kingkami-placeholder-drbd-xfs": "CFG003",
    "haresources/029-node01-same-vip-two-groups-nfs": "CFG303",
    "authkeys/019-upstream-heartbeat-doc-sample": "SEC002",
}
#: EXPECTED.md's warning-level config diagnoses
EXPECTED_WARNINGS = {
    "ha.cf/025-ljproyecto-udpport-last-initdead4.cf": "CFG103",
    "ha.cf/028-bluevitality-warntime-equals-deadtime.cf": "CFG104",
    "ha.cf/009-pulecp-pacemaker-ucast-both-peers.cf": "CFG103",
    "ha.cf/041-ubuntuforums-uksl-proxy-initdead-eq-deadtime.cf": "CFG103",
    "ha.cf/033-chef-boneyard-DERIVED-defaults.cf": "CFG105",
    "ha.cf/014-slpcat-freebsd-bge0-ucast.cf": "CFG201",
    "ha.cf/026-shotai-bcast-ucast-eth1.cf": "CFG201",
    "ha.cf/019-toreatessier-mcast-enp0s3.cf": "CFG201",
    "authkeys/024-deimos-quoted-key-with-spaces": "SEC002",
}
FILE_NAME = {"ha.cf": "ha.cf", "haresources": "haresources", "authkeys": "authkeys"}
RULES = discovery.select_rules(discovery.all_rules(), ["CFG", "SEC"])


def _findings(tmp_path: Path, kind: str, path: Path):
    folder = tmp_path / "node"
    folder.mkdir()
    shutil.copy(path, folder / FILE_NAME[kind])
    report = run(load_target(str(folder)), RULES)
    return [f for f in report.findings if f.status == "fail"]


@pytest.mark.parametrize("kind", ["ha.cf", "haresources", "authkeys"])
def test_expected_keys_exist(kind, corpus):
    for key in list(EXPECTED_ERRORS) + list(EXPECTED_WARNINGS):
        if key.startswith(kind + "/"):
            assert (corpus / key).is_file(), key


@pytest.mark.parametrize("path", corpus_params("ha.cf") + corpus_params("haresources") + corpus_params("authkeys"))
def test_corpus_config_findings(tmp_path, path):
    kind = path.parent.name
    key = f"{kind}/{path.name}"
    findings = _findings(tmp_path, kind, path)
    errors = {f.code for f in findings if f.severity == "error"}
    codes = {f.code for f in findings}
    if key in EXPECTED_ERRORS:
        assert EXPECTED_ERRORS[key] in errors, f"{key}: expected {EXPECTED_ERRORS[key]}, got {sorted(codes)}"
    else:
        assert not errors, f"{key} is not listed as broken but got errors: " + "; ".join(
            f"{f.code} {f.message}" for f in findings if f.severity == "error")
    if key in EXPECTED_WARNINGS:
        assert EXPECTED_WARNINGS[key] in codes, f"{key}: expected {EXPECTED_WARNINGS[key]}, got {sorted(codes)}"
