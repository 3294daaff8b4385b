"""ha.cf parser: the corpus, heartbeat 3.0.6's rules on real samples, and robustness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import mutated_corpus as shared_mutated_corpus, corpus_files, corpus_params, corpus_root
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hadoctor.parsers.hacf import parse_bool, parse_hacf

#: corpus files EXPECTED.md/SOURCES.md call broken (or templates): heartbeat refuses them
BROKEN = {"005", "015", "017", "032", "034", "037", "042"}


def errors(cf):
    return [p for p in cf.problems if p.severity == "error"]


def line_of(path: Path, needle: str, start: int = 1) -> int:
    for number, text in enumerate(path.read_bytes().decode("utf-8", "replace").split("\n"), start=1):
        if number >= start and needle in text:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def corpus_file(prefix: str) -> Path:
    matches = [p for p in corpus_files("ha.cf") if p.name.startswith(prefix)]
    assert matches, f"corpus file ha.cf/{prefix}* not found under {corpus_root()}"
    return matches[0]


def parse_file(prefix: str):
    path = corpus_file(prefix)
    return path, parse_hacf(path.read_bytes(), str(path))


# -- the whole corpus ---------------------------------------------------------------------

@pytest.mark.parametrize("path", corpus_params("ha.cf"))
def test_corpus_file_parses(path):
    cf = parse_hacf(path.read_bytes(), str(path))
    lines = path.read_bytes().count(b"\n") + 1
    for problem in cf.problems:
        assert problem.file == str(path)
        assert isinstance(problem.line, int) and 0 <= problem.line <= lines
    assert [d.index for d in cf.directives] == list(range(len(cf.directives)))
    assert all(a.line < b.line for a, b in zip(cf.directives, cf.directives[1:]))
    json.dumps(cf.to_dict())
    broken = path.name[:3] in BROKEN
    assert bool(errors(cf)) == broken, [str(p) for p in errors(cf)]


def test_005_typo_and_bad_facility_named_at_their_lines():
    path, cf = parse_file("005")
    found = {(p.line, p.message.split(";")[0]) for p in errors(cf)}
    assert (line_of(path, "undport"), f"Illegal directive [undport] in {path}") in found
    assert (line_of(path, "local10"), "Log facility(local10) not valid") in found
    assert "did you mean udpport" in next(p.message for p in cf.problems if "undport" in p.message)
    assert cf.logfacility is None and cf.udpport is None


def test_015_slash_comments_are_illegal_directives():
    path, cf = parse_file("015")
    expected = [n for n, t in enumerate(path.read_bytes().decode().split("\n"), 1) if t.startswith("//")]
    assert len(expected) >= 3
    assert sorted(p.line for p in errors(cf)) == expected
    assert all(p.message.startswith("Illegal directive [//]") for p in errors(cf))


def test_017_second_watchdog_refused():
    path, cf = parse_file("017")
    second = line_of(path, "watchdog", line_of(path, "watchdog") + 1)
    [problem] = errors(cf)
    assert problem.line == second and problem.message.startswith("Watchdog device multiply specified.")
    assert cf.settings["watchdog"].line == line_of(path, "watchdog")


def test_037_crm_pipe_and_prose_line():
    path, cf = parse_file("037")
    lines = {p.line: p.message for p in errors(cf)}
    assert "[|no]" in lines[line_of(path, "crm |no")]
    prose = max(lines)
    assert lines[prose].startswith("Illegal directive [")
    assert not cf.pacemaker_enabled
    assert [m.group for m in cf.media if m.kind == "mcast"] == ["225.0.0.75"]


def test_042_mcast_without_group():
    path, cf = parse_file("042")
    [problem] = errors(cf)
    assert problem.line == line_of(path, "mcast bond0")
    assert problem.message.startswith("mcast [bond0] bad addr [694]")
    assert [m.kind for m in cf.media] == ["bcast"]


@pytest.mark.parametrize("prefix, written", [("024", "696"), ("025", "694")])
def test_udpport_after_media_is_visible(prefix, written):
    path, cf = parse_file(prefix)
    assert cf.udpport.value == int(written) and cf.udpport.line == line_of(path, "udpport")
    first_medium = min(m.index for m in cf.media)
    assert cf.udpport.index > first_medium
    assert set(cf.udpport_for_media().values()) == {694}
    assert all(s.line == 0 for s in cf.plugin_ports.values())


def test_udpport_before_media_reaches_them():
    _, cf = parse_file("011")
    assert cf.udpport_for_media() == {"bcast": 691}
    assert cf.media[0].port == 691
    assert cf.nodes == [] and cf.autojoin.value == "any" and cf.pacemaker_enabled


def test_040_no_media_defaults_only():
    _, cf = parse_file("040")
    assert cf.media == []
    assert not cf.keepalive.explicit and cf.keepalive.value == 1000
    assert cf.deadtime.value == 30000 and cf.deadping.explicit and cf.deadping.value == 20000


def test_024_millisecond_units():
    path, cf = parse_file("024")
    assert (cf.keepalive.value, cf.warntime.value, cf.deadtime.value, cf.initdead.value) == (10, 100, 200, 10000)
    assert cf.warntime.line == line_of(path, "warntime")


def test_030_udp_alias_is_bcast_with_warning():
    path, cf = parse_file("030")
    warning = [p for p in cf.problems if "'udp' replaced by 'bcast'" in p.message]
    assert warning and warning[0].line == line_of(path, "udp     eth0")
    assert [m.written_as for m in cf.media if m.kind == "bcast"] == ["", "udp"]


def test_012_nice_failback_after_auto_failback_on_means_off():
    _, cf = parse_file("012")
    assert cf.auto_failback.value == "off" and cf.auto_failback.text.startswith("nice_failback")


# -- heartbeat's rules on small real-style samples ---------------------------------------------

def test_comment_anywhere_and_leading_whitespace():
    cf = parse_hacf(b"   keepalive 2 # every 2 s, you could also use 2000ms\n#deadtime 5\n\tnode n1#n2\n")
    assert cf.keepalive.value == 2000 and not cf.deadtime.explicit
    assert cf.node_names == ["n1"] and cf.problems == []


def test_option_lists_split_on_commas_and_blanks():
    cf = parse_hacf(b"node alpha,Beta  gamma\nbcast eth0, eth1\n")
    assert cf.node_names == ["alpha", "beta", "gamma"]
    assert [n.written for n in cf.nodes] == ["alpha", "Beta", "gamma"]
    assert [(m.iface, m.line) for m in cf.media] == [("eth0", 2), ("eth1", 2)]


def test_space_before_unit_applies_two_values():
    cf = parse_hacf(b"deadtime 30 ms\n")
    assert cf.deadtime.value == 30000
    [problem] = cf.problems
    assert problem.line == 1 and "30ms" in problem.message and not cf.directives[0].ok


@pytest.mark.parametrize("line, fragment", [
    (b"deadtime 30s", "bad time [30s]"), (b"keepalive 1m", "bad time [1m]"), (b"keepalive 0", "more than 0"),
    (b"warntime 0", "Warn time [0] is invalid."), (b"realtime maybe", "not a boolean"),
    (b"auto_failback sometimes", "not on, off or legacy"), (b"logfacility LOCAL0", "Log facility(LOCAL0)"),
    (b"hopfudge 300", "hopfudge"), (b"udpport 0", "invalid port [0] specified."),
    (b"rtprio 100", "Illegal realtime priority [100]"), (b"hbgenmethod random", "Illegal hb generation method"),
    (b"autojoin all", "Invalid autojoin directive [all]"), (b"baud 12345", "invalid baudrate [12345]"),
    (b"msgfmt xml", "msgfmt"), (b"compression gzip", "compression"), (b"env NOEQUALS", "invalid nvpair"),
    (b"crm |no", "[|no]"), (b"Node a", "Illegal directive [Node]"), (b"normalpoll true", "not compiled"),
    (b"respawn hacluster ipfail", "is not full pathname"), (b"apiauth ipfail", "Invalid apiauth directive"),
    (b"apiauth ipfail user=x", "Missing uid or gid"), (b"ucast eth0", "missing target"),
    (b"mcast eth0 225.0.0.1 694 5 0", "bad ttl [5]"), (b"mcast eth0 225.0.0.1 694 1 2", "bad loop [2]"),
    (b"mcast eth0 10.0.0.1 694 1 0", "bad addr [10.0.0.1]"), (b"mcast eth0 225.0.0.1", "missing port"),
    (b"mcast6 eth0 ff3e::1 694 1 0", "bad addr"), (b"ucast6 eth0 ff02::1", "bad addr"),
    (b"stonith_host *", "No Stonith type given"), (b"stonith", "No Stonith type given"),
    (b"ping_group lonely", "at least one host"),
])
def test_heartbeat_refuses(line, fragment):
    cf = parse_hacf(b"keepalive 1\n" + line + b"\n")
    [problem] = errors(cf)
    assert problem.line == 2 and fragment in problem.message
    assert cf.directives[1].ok is False and cf.directives[0].ok is True


@pytest.mark.parametrize("line", [
    b"deadtime 30", b"deadtime 1.5", b"keepalive 500ms", b"warntime 10", b"auto_failback yes",
    b"auto_failback LEGACY", b"logfacility none", b"crm respawn", b"pacemaker ccm-only", b"use_logd false",
    b"mcast eth0 239.0.0.10 694 1 0", b"mcast eth0 225.0.0.1 694 256 0", b"ucast6 eth1 fe80::2%eth1",
    b"mcast6 eth0 ff12::1 694 1 0", b"ping_group g1 10.0.0.1 10.0.0.2", b"respawn root /usr/lib/heartbeat/mgmtd -v",
    b"apiauth\tmgmtd\tuid=root", b"apiauth ping gid=haclient uid=alice,bob", b"env HA_X=1", b"baud 115200",
    b"autojoin Other", b"hopfudge 0", b"stonith baytech /etc/ha.d/conf/stonith.baytech", b"serial /dev/ttyS0",
])
def test_heartbeat_accepts(line):
    cf = parse_hacf(line + b"\n")
    assert errors(cf) == [], [str(p) for p in cf.problems]


def test_mcast_fields():
    [medium] = parse_hacf(b"mcast enp0s3 239.0.0.10 694 1 0\n").media
    assert (medium.kind, medium.iface, medium.group, medium.port, medium.ttl, medium.loop, medium.link_name) == \
        ("mcast", "enp0s3", "239.0.0.10", 694, 1, 0, "enp0s3")


def test_ucast_extra_words_warned_not_fatal():
    cf = parse_hacf(b"ucast eth1 10.0.0.2 694\n")
    assert [m.peer for m in cf.media] == ["10.0.0.2"]
    assert [p.severity for p in cf.problems] == ["warning"] and "[694] is ignored" in cf.problems[0].message


def test_each_plugin_reads_udpport_at_its_first_medium():
    cf = parse_hacf(b"udpport 700\nbcast eth0\nudpport 800\nucast eth1 10.0.0.2\nbcast eth2\n")
    assert cf.udpport_for_media() == {"bcast": 700, "ucast": 800}
    assert [m.port for m in cf.media] == [700, 800, 700]
    assert cf.udpport.value == 800 and cf.udpport.line == 3
    assert cf.plugin_ports["bcast"].line == 1


@pytest.mark.parametrize("deadtime, initdead", [(b"5", 12000), (b"8", 16000), (b"10", 20000), (b"20", 20000),
                                                (b"6", 12000), (b"10.001", 10001)])
def test_initdead_default_table(deadtime, initdead):
    cf = parse_hacf(b"deadtime " + deadtime + b"\n")
    assert cf.initdead.value == initdead and not cf.initdead.explicit
    assert cf.warntime.value == cf.deadtime.value // 2 and cf.deadping.value == cf.deadtime.value


def test_explicit_timings_keep_their_line_and_last_valid_value():
    cf = parse_hacf(b"keepalive 2\ninitdead 60\nkeepalive 3\nkeepalive 30s\n")
    assert (cf.keepalive.value, cf.keepalive.line, cf.keepalive.text) == (3000, 3, "3")
    assert cf.initdead.explicit and cf.initdead.value == 60000 and cf.initdead.index == 1
    assert [p.line for p in errors(cf)] == [4]


def test_auto_failback_defaults_to_legacy_and_nice_failback_alone_stays_legacy():
    assert parse_hacf(b"").auto_failback.value == "legacy"
    cf = parse_hacf(b"nice_failback on\n")
    assert cf.auto_failback.value == "legacy" and cf.problems[0].severity == "warning"


def test_pacemaker_once_only_and_order_sensitive_directives():
    cf = parse_hacf(b"crm on\npacemaker respawn\ncrm_daemon_dir /usr/lib/pacemaker\n")
    assert cf.pacemaker.value == "on" and cf.pacemaker.line == 1 and cf.pacemaker_enabled
    messages = [(p.line, p.message) for p in errors(cf)]
    assert messages[0][0] == 2 and messages[0][1].startswith("pacemaker/crm directive used multiple times!")
    assert messages[1] == (3, "If you specify crm_daemon_dir, it must come before the pacemaker directive")


def test_pacemaker_implied_apiauth_overlap_is_a_warning():
    cf = parse_hacf(b"crm respawn\napiauth stonith-ng uid=root\napiauth cms uid=root\n")
    [problem] = cf.problems
    assert problem.severity == "warning" and problem.line == 2 and "stonith-ng" in problem.message
    assert [a.client for a in cf.apiauth] == ["cms"]


def test_duplicate_explicit_apiauth_is_refused():
    cf = parse_hacf(b"apiauth ipfail uid=hacluster\napiauth ipfail gid=haclient\n")
    assert [(p.line, p.severity) for p in cf.problems] == [(2, "error")]
    assert cf.apiauth[0].uids == ("hacluster",)


def test_respawn_and_failfast_entries():
    cf = parse_hacf(b"respawn hacluster /usr/lib64/heartbeat/ipfail\nfailfast root /usr/sbin/x -a b\n")
    assert [(c.kind, c.user, c.path) for c in cf.clients] == [
        ("respawn", "hacluster", "/usr/lib64/heartbeat/ipfail"), ("failfast", "root", "/usr/sbin/x")]
    assert cf.failfast[0].command == "/usr/sbin/x -a b" and cf.failfast[0].failfast


def test_stonith_host_password_never_shown():
    secret = "Pl4nted-Passw0rd"
    cf = parse_hacf(f"stonith_host * apcmaster 10.0.0.9 admin {secret}\nstonith_host nodeb\n".encode())
    [entry] = cf.stonith_hosts
    assert entry.host == "*" and entry.type == "apcmaster" and entry.params[2].reveal() == secret
    for text in (repr(cf), str(cf), json.dumps(cf.to_dict()), repr(cf.directives), str(cf.problems)):
        assert secret not in text
    assert cf.to_dict()["stonith_hosts"][0]["params"] == ["****"] * 3


@pytest.mark.parametrize("data, first", [
    (b"keepalive 2\nbcast {{ interface }}\nnode {{ primary }}\n", 2),
    (b"udpport <%= @heartbeat.udpport %>\n<% if x -%>\n", 1),
    (b"{% if a %}\n  {% set t = b %}\n{% endif %}\nkeepalive 2\n", 1),
])
def test_template_gets_one_problem_at_first_marker(data, first):
    cf = parse_hacf(data)
    [problem] = cf.problems
    assert problem.line == first and "template" in problem.message and problem.severity == "error"
    assert cf.template_line == first
    assert all("{" not in d.raw and "<%" not in d.raw for d in cf.directives)


def test_dos_line_endings_nul_and_latin1_bytes():
    cf = parse_hacf(b"keepalive 2\r\nnode caf\xe9\r\ndeadtime 10\x00junk\r\n")
    assert cf.problems == [] and cf.deadtime.value == 10000 and cf.keepalive.value == 2000
    assert cf.nodes[0].line == 2


def test_node_names_lowercased_ascii_only():
    cf = parse_hacf("node NodeA İstanbul\n".encode())
    assert cf.node_names == ["nodea", "İstanbul"]


def test_too_many_media():
    cf = parse_hacf(b"bcast " + b" ".join(b"eth%d" % i for i in range(65)) + b"\n")
    assert len(cf.media) == 64
    assert [p.message for p in errors(cf)] == ["Too many media specified (> 64)"]


def test_parse_bool_is_cl_str_to_boolean():
    assert [parse_bool(w) for w in ("TRUE", "on", "Y", "1", "off", "No", "0", "2", "", "enable")] == \
        [True, True, True, True, False, False, False, None, None, None]


# -- robustness ------------------------------------------------------------------------

def _check(cf, data: bytes) -> None:
    lines = data.count(b"\n") + 1
    for problem in cf.problems:
        assert isinstance(problem.line, int) and 0 <= problem.line <= lines
        assert problem.severity in ("error", "warning")
    json.dumps(cf.to_dict())


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data):
    _check(parse_hacf(data), data)


_WORDS = st.sampled_from(["node", "bcast", "ucast", "mcast", "mcast6", "ucast6", "udpport", "deadtime", "crm",
                          "pacemaker", "respawn", "apiauth", "stonith_host", "watchdog", "baud", "ping_group",
                          "#", ",", "ms", "30", "1.5", "eth0", "225.0.0.1", "uid=", "{{", "}}", "<%", "%>", "\t",
                          "udp", "nice_failback", "on", "legacy", "/usr/bin/x", "\\", "\x00", "ff02::1"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_WORDS, max_size=7).map(" ".join), max_size=12).map("\n".join))
def test_directive_soup_never_raises(text):
    data = text.encode()
    _check(parse_hacf(data), data)


def mutated_corpus():
    return shared_mutated_corpus("ha.cf", b"#\\\n\r\x00, \t/:{}%<>\xff")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_corpus())
def test_mutated_corpus_never_raises(data):
    _check(parse_hacf(data), data)
