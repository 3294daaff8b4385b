"""The command line as a user meets it: exit codes, clean machine output, clear errors, no tracebacks."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import REPO
from tests.rules.scenario import healthy_cluster, write_cluster

HADOCTOR = [sys.executable, "-m", "hadoctor"]


def run(*args, cwd=None, env=None, user=None):
    full_env = dict(os.environ, NO_COLOR="1", COLUMNS="200", HADOCTOR_STRICT="1")
    full_env.update(env or {})
    return subprocess.run(HADOCTOR + [str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          env=full_env, timeout=120, user=user)


def assert_clean_error(proc, *words):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("hadoctor: error:"), proc.stderr
    for word in words:
        assert word in proc.stderr


def test_version_and_help():
    assert run("--version").stdout.strip().startswith("hadoctor ")
    out = run("--help").stdout
    for command in ("check", "rules", "rule", "snapshot", "parse"):
        assert command in out
    assert "Exit codes" in out
    check_help = run("check", "--help").stdout
    assert "--fail-on" in check_help and "inclusive" in check_help


@pytest.mark.parametrize("case", ["missing", "directory", "empty", "binary", "long-line"])
def test_parse_bad_input_exit_2(tmp_path, case):
    path = tmp_path / "ha.cf"
    if case == "directory":
        path.mkdir()
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "binary":
        path.write_bytes(bytes(range(256)) * 40)
    elif case == "long-line":
        path.write_bytes(b"keepalive " + b"1" * (10 * 1024 * 1024) + b"\n")
    proc = run("parse", "ha.cf", path)
    assert_clean_error(proc, str(path))


def test_parse_truncated_gz_log(tmp_path):
    whole = gzip.compress(b"Nov 25 07:34:40 nodea heartbeat: [2129]: info: Link nodeb:eth1 up.\n" * 5000)
    path = tmp_path / "ha-log.1.gz"
    path.write_bytes(whole[: len(whole) // 2])
    assert_clean_error(run("parse", "log", path), "truncated")


def test_parse_non_utf8_comment_is_fine(tmp_path):
    path = tmp_path / "ha.cf"
    path.write_bytes(b"# caf\xe9 latin-1 comment\nkeepalive 1\ndeadtime 10\nbcast eth0\nnode a\nnode b\n")
    proc = run("parse", "ha.cf", path, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["nodes"]


def test_permission_denied_is_explained(tmp_path):
    """Root reads everything, so the check runs the input layer as user nobody with Debian's python3."""
    system_python = shutil.which("python3", path="/usr/bin")
    if os.geteuid() != 0 or not system_python:
        pytest.skip("needs root (to switch to user nobody) and /usr/bin/python3")
    secret = tmp_path / "authkeys"
    secret.write_text("auth 1\n1 sha1 x\n")
    secret.chmod(0o600)
    tmp_path.chmod(0o755)
    code = ("import sys; from hadoctor.inputs import read_bytes; from hadoctor.errors import InputError\n"
            "try:\n    read_bytes(sys.argv[1])\nexcept InputError as e:\n    print(e.reason, '|', e.hint)\n")
    proc = subprocess.run([system_python, "-c", code, str(secret)], capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO)}, user="nobody", timeout=60)
    assert "permission denied" in proc.stdout, proc.stdout + proc.stderr


def test_check_missing_target_exit_2(tmp_path):
    assert_clean_error(run("check", tmp_path / "nope"), "no such file or directory")
    (tmp_path / "empty").mkdir()
    assert_clean_error(run("check", tmp_path / "empty"), "holds no node folder")


def test_check_healthy_folder_exit_0_and_json_alone_on_stdout(tmp_path):
    write_cluster(tmp_path, healthy_cluster())
    proc = run("check", tmp_path, "--format", "json")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    doc = json.loads(proc.stdout)  # stdout holds the JSON document and nothing else
    assert doc["schema"] == "hadoctor-report/1"
    assert {n["name"] for n in doc["nodes"]} == {"node01", "node02"}
    assert doc["summary"]["error"] == 0 and doc["summary"]["warning"] == 0
    assert doc["summary"]["exit_code"] == 0


def test_check_exit_codes_follow_fail_on(tmp_path):
    hacf = ("keepalive 1\ndeadtime 10\nwarntime 10\ninitdead 30\nbcast eth0\nucast eth1 10.250.1.2\n"
            "ucast eth1 10.250.1.3\nauto_failback on\nnode node01\nnode node02\n")
    write_cluster(tmp_path, healthy_cluster({n: {"ha.cf": hacf} for n in ("node01", "node02")}))
    assert run("check", tmp_path).returncode == 1  # CFG104 warning at the default --fail-on warning
    assert run("check", tmp_path, "--fail-on", "error").returncode == 0
    assert run("check", tmp_path, "--ignore", "CFG104").returncode == 0


def test_check_incomplete_data_exit_3(tmp_path):
    write_cluster(tmp_path, healthy_cluster({"node02": {"ip-a.txt": None}}))
    proc = run("check", tmp_path, "--fail-on", "error")
    assert proc.returncode == 3, proc.stdout
    assert "addresses" in proc.stdout


def test_sarif_locations(tmp_path):
    changes = {"node01": {"ha.cf": "keepalive 2\ndeadtime 3\nbcast eth0\nucast eth1 10.250.1.3\nnode node01\n"
                                   "node node02\n"}}
    write_cluster(tmp_path, healthy_cluster(changes))
    proc = run("check", tmp_path, "--format", "sarif", "--select", "CFG101")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    results = doc["runs"][0]["results"]
    assert results and results[0]["ruleId"] == "CFG101" and results[0]["level"] == "error"
    region = results[0]["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"].endswith("node01/ha.cf") and region["region"]["startLine"] == 2


def test_rules_and_rule_explain():
    doc = json.loads(run("rules", "--format", "json").stdout)
    codes = [r["code"] for r in doc["rules"]]
    assert codes == sorted(codes) and len(codes) == len(set(codes)) and "CFG101" in codes
    text = run("rule", "cfg101").stdout
    assert "What it means" in text and "How to fix it" in text
    assert_clean_error(run("rule", "ZZZ999"), "no rule")


def test_select_unknown_code_is_usage_error(tmp_path):
    write_cluster(tmp_path, healthy_cluster())
    assert_clean_error(run("check", tmp_path, "--select", "NOPE9"), "no rule matches")


def test_suppression_comment_and_stale_warning(tmp_path):
    hacf = ("# hadoctor: ignore=CFG104 reason='lab wants it' until=2099-01-01\n"
            "# hadoctor: ignore=CFG101 reason='stale'\n"
            "keepalive 1\ndeadtime 10\nwarntime 10\ninitdead 30\nbcast eth0\nucast eth1 {}\nnode node01\nnode node02\n"
            "auto_failback on\n")
    write_cluster(tmp_path, healthy_cluster({"node01": {"ha.cf": hacf.format("10.250.1.3")},
                                             "node02": {"ha.cf": hacf.format("10.250.1.2")}}))
    doc = json.loads(run("check", tmp_path, "--format", "json").stdout)
    by_code = {}
    for f in doc["findings"]:
        by_code.setdefault(f["code"], []).append(f)
    assert all(f["suppressed"] for f in by_code["CFG104"])
    assert any("CFG101" in f["message"] for f in by_code["HDR001"])


def test_wheel_carries_the_builtin_rules(tmp_path):
    """Rules live in the top-level rules/ folder; the installed package must still have them."""
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path),
                           str(REPO)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next(tmp_path.glob("hadoctor-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "hadoctor/builtin_rules/config_timing.py" in names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, timeout=300)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from hadoctor.engine import discovery; "
            "d = discovery.builtin_rules_dir(); print(d); print(len(discovery.all_rules()))")
    out = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True, cwd=tmp_path,
                         timeout=120).stdout.split()
    assert out[0].startswith(str(target)) and out[0].endswith("builtin_rules")
    source_count = len(__import__("hadoctor.engine.discovery", fromlist=["x"]).all_rules())
    assert int(out[1]) == source_count
