"""Tests for hadoctor.parsers.packages: package lists and the rpm / dpkg version orderings."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from hadoctor.parsers.packages import (
    Version, compare_versions, detect_packages_format, dpkg_verrevcmp, parse_packages, rpmvercmp,
)

FIX = FIXTURES / "parsers"
DPKG = shutil.which("dpkg")
RPM = shutil.which("rpm")

# --------------------------------------------------------------------------- orderings

# rpm's own test table (tests/rpmvercmp.at): pure rpmvercmp on one version string.
RPMVERCMP_CASES = [
    ("1.0", "1.0", 0), ("1.0", "2.0", -1), ("2.0", "1.0", 1), ("2.0.1", "2.0.1", 0), ("2.0", "2.0.1", -1),
    ("2.0.1", "2.0", 1), ("2.0.1a", "2.0.1a", 0), ("2.0.1a", "2.0.1", 1), ("2.0.1", "2.0.1a", -1),
    ("5.5p1", "5.5p1", 0), ("5.5p1", "5.5p2", -1), ("5.5p2", "5.5p1", 1), ("5.5p10", "5.5p10", 0),
    ("5.5p1", "5.5p10", -1), ("5.5p10", "5.5p1", 1), ("10xyz", "10.1xyz", -1), ("10.1xyz", "10xyz", 1),
    ("xyz10", "xyz10", 0), ("xyz10", "xyz10.1", -1), ("xyz10.1", "xyz10", 1), ("xyz.4", "xyz.4", 0),
    ("xyz.4", "8", -1), ("8", "xyz.4", 1), ("xyz.4", "2", -1), ("2", "xyz.4", 1), ("5.5p2", "5.6p1", -1),
    ("5.6p1", "5.5p2", 1), ("5.6p1", "6.5p1", -1), ("6.5p1", "5.6p1", 1), ("6.0.rc1", "6.0", 1),
    ("6.0", "6.0.rc1", -1), ("10b2", "10a1", 1), ("10a2", "10b2", -1), ("1.0aa", "1.0aa", 0),
    ("1.0a", "1.0aa", -1), ("1.0aa", "1.0a", 1), ("10.0001", "10.0001", 0), ("10.0001", "10.1", 0),
    ("10.1", "10.0001", 0), ("10.0001", "10.0039", -1), ("10.0039", "10.0001", 1), ("4.999.9", "5.0", -1),
    ("5.0", "4.999.9", 1), ("20101121", "20101121", 0), ("20101121", "20101122", -1),
    ("20101122", "20101121", 1), ("2_0", "2_0", 0), ("2.0", "2_0", 0), ("2_0", "2.0", 0), ("a", "a", 0),
    ("a+", "a+", 0), ("a+", "a_", 0), ("a_", "a+", 0), ("+a", "+a", 0), ("+a", "_a", 0), ("_a", "+a", 0),
    ("+_", "+_", 0), ("_+", "+_", 0), ("_+", "_", 0), ("+", "_", 0), ("_", "+", 0),
    ("1.0~rc1", "1.0~rc1", 0), ("1.0~rc1", "1.0", -1), ("1.0", "1.0~rc1", 1), ("1.0~rc1", "1.0~rc2", -1),
    ("1.0~rc2", "1.0~rc1", 1), ("1.0~rc1~git123", "1.0~rc1~git123", 0), ("1.0~rc1~git123", "1.0~rc1", -1),
    ("1.0~rc1", "1.0~rc1~git123", 1), ("1.0^", "1.0^", 0), ("1.0^", "1.0", 1), ("1.0", "1.0^", -1),
    ("1.0^git1", "1.0^git1", 0), ("1.0^git1", "1.0", 1), ("1.0", "1.0^git1", -1), ("1.0^git1", "1.0^git2", -1),
    ("1.0^git2", "1.0^git1", 1), ("1.0^git1", "1.01", -1), ("1.01", "1.0^git1", 1),
    ("1.0^20160101", "1.0^20160101", 0), ("1.0^20160101", "1.0.1", -1), ("1.0.1", "1.0^20160101", 1),
    ("1.0^20160101^git1", "1.0^20160101^git1", 0), ("1.0^20160102", "1.0^20160101^git1", 1),
    ("1.0^20160101^git1", "1.0^20160102", -1), ("1.0~rc1^git1", "1.0~rc1^git1", 0),
    ("1.0~rc1^git1", "1.0~rc1", 1), ("1.0~rc1", "1.0~rc1^git1", -1), ("1.0^git1~pre", "1.0^git1~pre", 0),
    ("1.0^git1", "1.0^git1~pre", 1), ("1.0^git1~pre", "1.0^git1", -1),
]

# Whole EVR strings as they appear on heartbeat nodes.
RPM_EVR_CASES = [
    ("3.9.2-21.el6_4.8", "3.9.2-21.el6_4.10", -1), ("3.9.5-82.el7_3.11", "3.9.5-82.el7", 1),
    ("3.0.4-2.el6", "3.0.4-1.el6", 1), ("1:1.0-1", "2.0-1", 1), ("0:3.0.4-2.el6", "3.0.4-2.el6", 0),
    ("2.1.3-3.el5.centos", "2.1.4-11.el5", -1), ("3.10.0-327.el7", "3.10.0-327.36.1.el7", -1),
    ("3.9.5", "3.9.5-1", -1), ("3.9.5-0", "3.9.5", 1), ("5.3p1-104.el6", "5.3p1-84.1.el6", 1),
]

# dpkg's ordering, each checked against `dpkg --compare-versions` below when dpkg is present.
DEB_CASES = [
    ("1.0", "1.0", 0), ("1.0", "1.1", -1), ("1.2", "1.11", -1), ("1.0-0.1", "1.1", -1), ("1.0-0.1", "1.0-1", -1),
    ("1.0", "1.0-0", 0), ("0:1.0-0", "1.0-0", 0), ("1:1.0", "2.0", 1), ("1.0~rc1", "1.0", -1),
    ("1.0~~", "1.0~", -1), ("1.0~~a", "1.0~~", 1), ("1.0~", "1.0", -1), ("1.0a", "1.0", 1), ("1.0a", "1.0+", -1),
    ("1.0+", "1.0.", -1), ("2.30", "2.4", 1), ("1.2.3-1", "1.2.3-1+b1", -1), ("1.0-1~bpo1", "1.0-1", -1),
    ("1:3.0.6-13+b2", "1:3.0.6-13", 1), ("1:3.0.6-13+b2", "3.0.6-99", 1), ("7.6p2-4", "7.6-0", 1),
    ("1.0.0", "1.0", 1), ("2.36-9+deb12u14", "2.36-9+deb12u4", 1), ("4.12.0-2", "4.12.0-2~bpo11+1", 1),
    ("1:4.1.1-1", "1:4.1.1-1ubuntu1", -1), ("3.9.5-3ubuntu1", "3.9.5-3", 1), ("10", "9", 1), ("001", "1", 0),
    ("1.0-a", "1.0-A", 1), ("1.0-Z", "1.0-a", -1), ("2.0-1", "1:1.0-1", -1), ("1.0~beta", "1.0~alpha", 1),
]


@pytest.mark.parametrize("a,b,expected", RPMVERCMP_CASES)
def test_rpmvercmp_table(a, b, expected):
    assert rpmvercmp(a, b) == expected
    assert compare_versions(a, b, "rpm") == expected


@pytest.mark.parametrize("a,b,expected", RPM_EVR_CASES)
def test_rpm_whole_versions(a, b, expected):
    assert compare_versions(a, b, "rpm") == expected
    assert compare_versions(b, a, "rpm") == -expected


def rpm_answers(pairs):
    """rpm's own verdicts (``rpm.vercmp`` in rpm's Lua, which parses whole EVRs) for many pairs at once."""
    out = []
    for start in range(0, len(pairs), 500):
        body = "".join("{[[%s]],[[%s]]}," % pair for pair in pairs[start:start + 500])
        script = "%%{lua: for _, p in ipairs({%s}) do print(rpm.vercmp(p[1], p[2]) .. '\\n') end}" % body
        run = subprocess.run([RPM, "--eval", script], capture_output=True, text=True, check=True)
        out += [int(x) for x in run.stdout.split()]
    assert len(out) == len(pairs)
    return out


@pytest.mark.skipif(not RPM, reason="rpm is not installed (apt-get install rpm); the tables above still run")
def test_tables_agree_with_real_rpm():
    pairs = [(a, b) for a, b, _ in RPMVERCMP_CASES + RPM_EVR_CASES]
    assert rpm_answers(pairs) == [e for _, _, e in RPMVERCMP_CASES + RPM_EVR_CASES]


def dpkg_answer(a: str, b: str) -> int:
    for op, result in (("lt", -1), ("eq", 0), ("gt", 1)):
        run = subprocess.run([DPKG, "--compare-versions", a, op, b], capture_output=True)
        assert not run.stderr, run.stderr
        if run.returncode == 0:
            return result
    raise AssertionError(f"dpkg gave no answer for {a} {b}")


@pytest.mark.parametrize("a,b,expected", DEB_CASES)
def test_deb_table(a, b, expected):
    assert compare_versions(a, b, "deb") == expected
    assert compare_versions(b, a, "deb") == -expected
    if DPKG:
        assert dpkg_answer(a, b) == expected


def test_verrevcmp_pieces():
    assert dpkg_verrevcmp("", "0") == 0 and dpkg_verrevcmp("~", "") == -1 and dpkg_verrevcmp("a", "") == 1
    assert dpkg_verrevcmp("1.0", "1.0.0") == -1 and dpkg_verrevcmp("b2", "b10") == -1


def test_version_objects():
    v = Version.parse("1:3.0.6-13+b2", "deb")
    assert (v.epoch, v.upstream, v.release, str(v)) == (1, "3.0.6", "13+b2", "1:3.0.6-13+b2")
    assert v == "1:3.0.6-13+b2" and v != "1:3.0.6-13" and v >= "1:3.0.6" and not v < "3.0.6-99"
    assert Version.parse("1.0", "deb") == Version.parse("1.0-0", "deb")
    assert hash(Version.parse("1.0", "deb")) == hash(Version.parse("1.0-0", "deb"))
    assert hash(Version.parse("10.0001", "rpm")) == hash(Version.parse("10.1", "rpm"))
    r = Version.parse("(none):3.0.4-2.el6", "rpm")
    assert (r.epoch, r.upstream, r.release) == (None, "3.0.4", "2.el6")
    assert sorted(["3.0.4-2.el6", "2.1.3-3.el5", "3.0.4-10.el6"], key=lambda s: Version.parse(s, "rpm")) == [
        "2.1.3-3.el5", "3.0.4-2.el6", "3.0.4-10.el6"]
    with pytest.raises(TypeError):
        _ = v < Version.parse("1.0", "rpm")
    with pytest.raises(TypeError):
        _ = v < 3
    assert (v == 3) is False
    assert v.to_dict()["text"] == "1:3.0.6-13+b2"


# --------------------------------------------------------------------------- package lists

# `rpm -qa` lines (insights-core's InstalledRpms test data, Apache-2.0), with EPEL 6 heartbeat packages.
RPM_QA = b"""\
heartbeat-3.0.4-2.el6.x86_64
heartbeat-libs-3.0.4-2.el6.x86_64
resource-agents-3.9.2-21.el6_4.8.x86_64
openssh-server-5.3p1-104.el6.x86_64
kernel-3.10.0-327.el7.x86_64
kernel-3.10.0-327.36.1.el7.x86_64
gpg-pubkey-0608b895-4bd22942
oracleasm-2.6.18-164.el5-2.0.5-1.el5.x86_64
yum-3.4.3-132.el7.noarch
yum-3.4.2-132.el7.noarch
error: rpmdbNextIterator: skipping h#     753 Header V3 DSA signature: BAD, key ID db42a6
"""


def test_rpm_qa():
    pkgs = parse_packages(RPM_QA, "packages.txt")
    assert pkgs.fmt == "rpm" and detect_packages_format(RPM_QA) == "rpm"
    ra = pkgs.get("resource-agents")
    assert (ra.arch, ra.line, ra.version.upstream, ra.version.release) == ("x86_64", 3, "3.9.2", "21.el6_4.8")
    assert pkgs.version_of("resource-agents") < "3.9.5"
    assert str(pkgs.version_of("kernel")) == "3.10.0-327.36.1.el7"  # the newest of the two
    assert pkgs.get("gpg-pubkey").arch is None
    assert pkgs.get("oracleasm-2.6.18-164.el5").version.upstream == "2.0.5"
    assert str(pkgs.version_of("yum")) == "3.4.3-132.el7" and len(pkgs.entries) == 10
    # yum twice is an interrupted upgrade; two kernels are normal; the rpmdb error is reported
    assert [(p.line, p.severity) for p in pkgs.problems] == [(10, "warning"), (11, "error")]
    assert "installed twice" in pkgs.problems[0].message
    assert pkgs.version_of("pacemaker") is None and "heartbeat" in pkgs
    json.dumps(pkgs.to_dict())


def test_rpm_queryformat_and_last():
    qf = b"heartbeat (none):3.0.4-2.el6 x86_64\nresource-agents 0:3.9.5-124.el7 x86_64\n"
    pkgs = parse_packages(qf, "packages.txt")
    assert pkgs.fmt == "rpm" and pkgs.problems == []
    assert (pkgs.version_of("resource-agents").epoch, pkgs.get("heartbeat").arch) == (0, "x86_64")
    last = parse_packages(b"kernel-2.6.32-573.el6.x86_64                                Wed May 18 14:17:17 2016\n",
                          "x", fmt="rpm")
    assert str(last.version_of("kernel")) == "2.6.32-573.el6" and last.problems == []


def test_dpkg_query_fixture_from_this_machine():
    data = (FIX / "dpkg-query-W.txt").read_bytes()
    pkgs = parse_packages(data, "dpkg-query-W.txt")
    assert pkgs.fmt == "deb" and pkgs.problems == []
    assert len(pkgs.entries) == len(data.splitlines())
    libc = pkgs.get("libc6")
    assert libc.arch == "amd64" and libc.version > "2.36-9" and libc.version.epoch is None
    assert all(p.version.upstream[0].isdigit() for p in pkgs.entries)


def test_dpkg_l_fixture_from_this_machine():
    data = (FIX / "dpkg-l-head.txt").read_bytes()
    pkgs = parse_packages(data, "dpkg-l-head.txt")
    assert pkgs.fmt == "deb" and pkgs.problems == []
    assert len(pkgs.packages) == len(data.splitlines()) - 5  # five header lines
    assert pkgs.get("adduser").arch == "all" and pkgs.get("adduser").line == 6


def test_dpkg_states_and_bad_versions():
    data = (b"ii  heartbeat      1:3.0.6-13+b2  amd64  Subsystem for High-Availability Linux\n"
            b"rc  heartbeat-2    2.1.4-1        amd64  removed\n"
            b"iU  resource-agents 1:4.12.0-2    amd64  half-configured\n"
            b"not a package line at all\n")
    pkgs = parse_packages(data, "x")
    assert sorted(pkgs.packages) == ["heartbeat", "resource-agents"]
    assert [(p.line, p.severity) for p in pkgs.problems] == [(3, "warning"), (4, "error")]
    odd = parse_packages(b"foo\tx1.0\nbar\t1.0-\nbaz\t\xc2\xb2:1\nqux\t\n", "x")
    assert [p.line for p in odd.problems] == [1, 2, 3]  # qux (not installed) is skipped quietly
    assert "qux" not in odd and odd.version_of("foo").upstream == "x1.0"


def test_detection_weighs_every_line():
    # Debian names often hold two hyphens; a version column beside them still says "deb"
    spaced = b"linux-image-6.1.0-13-amd64 6.1.55-1 amd64\npython3-pyroute2 0.7.2-2 all\n"
    assert detect_packages_format(spaced) == "deb"
    assert parse_packages(spaced, "x").get("linux-image-6.1.0-13-amd64").arch == "amd64"
    assert detect_packages_format(b"heartbeat 0:3.0.4-2.el6 x86_64\n") == "rpm"
    assert detect_packages_format(b"nothing here\n") is None


def test_empty_and_unknown_inputs():
    empty = parse_packages(b"", "x")
    assert empty.fmt is None and [(p.line, p.severity) for p in empty.problems] == [(0, "error")]
    forced = parse_packages(b"heartbeat\t1:3.0.6-13\n", "x", fmt="zip")
    assert forced.fmt == "deb" and forced.problems[0].line == 0 and "heartbeat" in forced


# --------------------------------------------------------------------------- properties

rpm_segment = st.text(alphabet="0123456789abcxyzAZ.~^_+", min_size=1, max_size=8)
rpm_versions = st.builds(lambda e, v, r: (f"{e}:" if e is not None else "") + v + (f"-{r}" if r else ""),
                         st.one_of(st.none(), st.integers(0, 3)), rpm_segment,
                         st.one_of(st.none(), rpm_segment))
deb_versions = st.builds(
    lambda e, u, r: (f"{e}:" if e is not None else "") + u + (f"-{r}" if r else ""),
    st.one_of(st.none(), st.integers(0, 3)),
    st.builds(lambda d, rest: d + rest, st.sampled_from("0123456789"),
              st.text(alphabet="0129abz.+~", max_size=7)),
    st.one_of(st.none(), st.text(alphabet="019abz.+~", min_size=1, max_size=5)))


def check_total_order(a: Version, b: Version, c: Version):
    assert a.compare(b) == -b.compare(a)
    if a.compare(b) <= 0 and b.compare(c) <= 0:
        assert a.compare(c) <= 0
    if a == b:
        assert hash(a) == hash(b)


@settings(max_examples=400, deadline=None)
@given(rpm_versions, rpm_versions, rpm_versions)
def test_rpm_order_is_total(a, b, c):
    check_total_order(*(Version.parse(x, "rpm") for x in (a, b, c)))


@settings(max_examples=400, deadline=None)
@given(deb_versions, deb_versions, deb_versions)
def test_deb_order_is_total(a, b, c):
    check_total_order(*(Version.parse(x, "deb") for x in (a, b, c)))


@pytest.mark.skipif(not DPKG, reason="dpkg is not installed: cannot compare with dpkg --compare-versions")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deb_versions, deb_versions)
def test_deb_order_equals_dpkg(a, b):
    assert compare_versions(a, b, "deb") == dpkg_answer(a, b)


@pytest.mark.skipif(not RPM, reason="rpm is not installed (apt-get install rpm): cannot ask rpm.vercmp")
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(rpm_versions, rpm_versions), min_size=50, max_size=100))
def test_rpm_order_equals_rpm(pairs):
    assert [compare_versions(a, b, "rpm") for a, b in pairs] == rpm_answers(pairs)


SEEDS = [RPM_QA, (FIX / "dpkg-l-head.txt").read_bytes(), b"heartbeat\t1:3.0.6-13+b2\nlibc6:amd64\t2.36-9\n"]


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=400),
                 st.builds(lambda seed, cut, junk: seed[:cut] + junk + seed[cut:],
                           st.sampled_from(SEEDS), st.integers(0, 400), st.binary(max_size=20))),
       st.sampled_from([None, "rpm", "deb"]))
def test_random_and_mutated_lists_never_raise(data, fmt):
    pkgs = parse_packages(data, "random", fmt)
    for problem in pkgs.problems:
        assert isinstance(problem.line, int) and problem.line >= 0
    for pkg in pkgs.entries:
        assert pkg.line >= 1 and pkg.version == pkg.version
    json.dumps(pkgs.to_dict())
