"""haresources parser: the corpus, ResourceManager's reading rules, the IPaddr shorthand, robustness."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from tests.conftest import mutated_corpus as shared_mutated_corpus, corpus_files, corpus_params, corpus_root
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hadoctor.parsers.haresources import looks_like_ip, parse_haresources

#: templates/placeholders (001, 018) and a duplicate group key (029): ResourceManager cannot run them
BROKEN = {"001", "018", "029"}


def errors(res):
    return [p for p in res.problems if p.severity == "error"]


def warnings(res):
    return [p for p in res.problems if p.severity == "warning"]


def parse_file(prefix: str):
    matches = [p for p in corpus_files("haresources") if p.name.startswith(prefix)]
    assert matches, f"corpus file haresources/{prefix}* not found under {corpus_root()}"
    return matches[0], parse_haresources(matches[0].read_bytes(), str(matches[0]))


def live_lines(path: Path):
    """(line number, text) of lines that are neither blank nor comments."""
    text = path.read_bytes().decode("utf-8", "replace").split("\n")
    return [(n, t) for n, t in enumerate(text, 1) if t.strip() and not t.lstrip().startswith("#")]


# -- the whole corpus ---------------------------------------------------------------------

@pytest.mark.parametrize("path", corpus_params("haresources"))
def test_corpus_file_parses(path):
    res = parse_haresources(path.read_bytes(), str(path))
    lines = path.read_bytes().count(b"\n") + 1
    for problem in res.problems:
        assert problem.file == str(path) and 0 <= problem.line <= lines
    json.dumps(res.to_dict())
    assert bool(errors(res)) == (path.name[:3] in BROKEN), [str(p) for p in res.problems]
    if not res.template_line:
        assert [g.line for g in res.groups] == [n for n, _ in live_lines(path)]


def test_001_template_flagged_at_its_line():
    path, res = parse_file("001")
    [problem] = res.problems
    assert problem.line == live_lines(path)[0][0] and "template" in problem.message
    assert res.groups == []


def test_005_empty_file():
    _, res = parse_file("005")
    assert res.groups == [] and res.problems == []


def test_022_double_slash_read_as_the_wrapper_reads_it():
    path, res = parse_file("022")
    [problem] = res.problems
    assert problem.line == live_lines(path)[0][0] and "empty field" in problem.message
    ip = res.groups[0].resources[0].ip
    assert (ip.address, ip.cidr_text, ip.prefix, ip.nic, ip.base_nic) == ("10.0.30.15", "8", 8, "eth0:10", "eth0")


def test_025_trailing_slash_warned():
    path, res = parse_file("025")
    [problem] = warnings(res)
    assert problem.line == live_lines(path)[0][0] and "trailing '/'" in problem.message
    assert res.groups[0].resources[0].ip.nic == "eth0" and res.groups[0].resources[0].ip.broadcast is None
    assert [g.node for g in res.groups] == ["node1", "node1"]


def test_023_dotted_netmask_converted():
    _, res = parse_file("023")
    ip = res.groups[0].resources[0].ip
    assert (ip.cidr_text, ip.prefix, ip.nic) == ("255.255.255.0", 24, None)
    assert ip.interface == ipaddress.IPv4Interface("192.168.88.140/24")


def test_016_inline_comment_is_a_warning_and_dropped():
    path, res = parse_file("016")
    [problem] = res.problems
    assert problem.severity == "warning" and problem.line == live_lines(path)[0][0]
    assert [r.token for r in res.groups[0].resources] == ["IPaddr::192.168.3.103", "mysql"]


def test_018_placeholders_are_bad_ip_and_netmask():
    _, res = parse_file("018")
    messages = [p.message for p in errors(res)]
    assert any("IP address [virtual_ip] not valid." in m for m in messages)
    assert any("Invalid netmask specification [mask]" in m for m in messages)


def test_029_duplicate_key():
    path, res = parse_file("029")
    [problem] = errors(res)
    assert problem.line == live_lines(path)[1][0] and "already starts the group on line" in problem.message
    assert res.keys[0] == res.keys[1]


@pytest.mark.parametrize("prefix", ["006", "021", "027", "028", "031"])
def test_bare_ips_become_ipaddr(prefix):
    _, res = parse_file(prefix)
    first = res.groups[0].resources[0]
    assert first.script == "IPaddr" and first.args == [first.token] and first.canonical == "IPaddr::" + first.token


def test_019_ipaddr2_with_broadcast():
    _, res = parse_file("019")
    ip = res.groups[0].resources[0].ip
    assert res.groups[0].resources[0].script == "IPaddr2"
    assert (ip.prefix, ip.nic, ip.broadcast) == (24, "eth0", "202.102.154.255")
    assert res.groups[0].resources[2].ip is None  # IProute:: is not an IPaddr


# -- ResourceManager's rules --------------------------------------------------------------------

def test_continuation_keeps_first_and_last_line():
    res = parse_haresources(b"# header\nnode1 10.0.0.5 \\\n   drbddisk::r0 \\\n  httpd\nnode2 10.0.0.6\n")
    first, second = res.groups
    assert (first.line, first.end_line, second.line) == (2, 4, 5)
    assert [(r.script, r.line) for r in first.resources] == [("IPaddr", 2), ("drbddisk", 3), ("httpd", 4)]
    assert first.resources[0].ip.line == 2 and res.problems == []


def test_problem_names_the_continued_line_it_is_on():
    res = parse_haresources(b"n1 httpd \\\n  IPaddr::10.0.0.999/24\n")
    assert [p.line for p in errors(res)] == [2] and res.groups[0].end_line == 2


def test_continuation_joins_without_a_space():
    [group] = parse_haresources(b"n1 htt\\\npd\n").groups
    assert [r.token for r in group.resources] == ["httpd"]


def test_comment_on_continued_line_is_not_a_comment():
    res = parse_haresources(b"n1 10.0.0.5 \\\n  httpd # web\n")
    assert [r.token for r in res.groups[0].resources] == ["10.0.0.5", "httpd", "#", "web"]
    [problem] = errors(res)
    assert problem.line == 2


def test_comment_hides_a_trailing_backslash():
    res = parse_haresources(b"n1 10.0.0.5 # vip \\\nn2 httpd\n")
    assert [g.node for g in res.groups] == ["n1", "n2"] and len(warnings(res)) == 1


def test_backslash_at_end_of_file():
    res = parse_haresources(b"n1 httpd \\\n")
    assert res.groups[0].resources[-1].token == "\\" and warnings(res)


def test_dos_line_endings_are_an_error():
    res = parse_haresources(b"n1 10.0.0.5 httpd\r\n")
    assert [p.line for p in errors(res)] == [1]
    assert res.groups[0].resources[-1].token == "httpd"


def test_node_lowercased_and_script_arguments():
    [group] = parse_haresources(b"Node1\tFilesystem::/dev/drbd0::/srv::ext4::noatime,nodiratime  MailTo::a@b::s\n").groups
    assert (group.node, group.written_node) == ("node1", "Node1")
    assert [(r.script, r.args) for r in group.resources] == [
        ("Filesystem", ["/dev/drbd0", "/srv", "ext4", "noatime,nodiratime"]), ("MailTo", ["a@b", "s"])]


@pytest.mark.parametrize("line, fragment", [
    (b"n1 IPaddr::10.0.0.300/24", "IP address [10.0.0.300] not valid."),
    (b"n1 IPaddr::10.0.0.3/33/eth0", "Invalid netmask specification [33]"),
    (b"n1 IPaddr::10.0.0.3/0", "Invalid netmask specification [0]"),
    (b"n1 IPaddr::10.0.0.3/255.0.255.0", "Invalid netmask specification [255.0.255.0]"),
    (b"n1 IPaddr::10.0.0.3/24/eth0/10.0.0.999", "Invalid broadcast address [10.0.0.999]."),
    (b"n1 IPaddr::10.0.0.3::eth0", "takes one argument"),
    (b"n1 IPaddr2::2001:db8::10/64", "takes one argument"),
    (b"n1 IPaddr", "takes one argument"),
    (b"n1", "lists no resources"),
    (b"n1 <vip> httpd", "template"),
])
def test_refused(line, fragment):
    res = parse_haresources(b"# first\n" + line + b"\n")
    assert any(fragment in p.message and p.line == 2 for p in errors(res)), [str(p) for p in res.problems]


@pytest.mark.parametrize("line, fragment", [
    (b"n1 IPaddr::10.0.0.3/24/eth0/10.0.0.255/junk", "[junk] after the broadcast"),
    (b"n1 Filesystem::/dev/sda1::::ext3", "empty '::' argument"),
    (b"n1 IPaddr::10.0.0.3/24//eth0", "empty field"),
])
def test_warned(line, fragment):
    res = parse_haresources(line + b"\n")
    assert errors(res) == [] and any(fragment in p.message for p in warnings(res))


def test_duplicate_key_compares_canonical_names():
    res = parse_haresources(b"n1 10.0.0.5 httpd\nn2 IPaddr::10.0.0.5 mysql\n")
    assert [p.line for p in errors(res)] == [2]


@pytest.mark.parametrize("token, expected", [
    ("10.0.0.1", True), ("10.0.0.1/24/eth0:0", True), ("1.2.3.4::x", True), ("1a.2b.3c.4d", True),
    ("1.2.3", False), ("a.1.2.3", False), ("httpd", False), ("1...2", False), ("", False), ("١.2.3.4", False),
])
def test_ip_glob(token, expected):
    assert looks_like_ip(token) is expected


@settings(max_examples=150)
@given(st.ip_addresses(v=4), st.integers(1, 32), st.sampled_from([None, "eth0", "bond0:1", "ens33"]),
       st.booleans())
def test_shorthand_round_trip(address, prefix, nic, with_broadcast):
    parts = [str(address), str(prefix)] + ([nic] if nic else [])
    broadcast = str(ipaddress.IPv4Interface(f"{address}/{prefix}").network.broadcast_address)
    if with_broadcast:
        parts.append(broadcast)
    res = parse_haresources(f"n1 IPaddr2::{'/'.join(parts)}\n".encode())
    ip = res.groups[0].resources[0].ip
    assert res.problems == []
    assert (ip.address, ip.prefix, ip.nic) == (str(address), prefix, nic)
    assert ip.broadcast == (broadcast if with_broadcast else None)


# -- robustness ------------------------------------------------------------------------

def _check(res, data: bytes) -> None:
    lines = data.count(b"\n") + 1
    for problem in res.problems:
        assert isinstance(problem.line, int) and 0 <= problem.line <= lines
    for group in res.groups:
        assert 1 <= group.line <= group.end_line <= lines
    json.dumps(res.to_dict())


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data):
    _check(parse_haresources(data), data)


_WORDS = st.sampled_from(["n1", "IPaddr::", "IPaddr2::", "10.0.0.1", "/", "//", "24", "eth0", "::", "#", "\\",
                          "\\\n", "\n", "{{", "}}", "<x>", "255.255.255.0", "httpd", "\t", "\r", ":"])


@settings(max_examples=150, deadline=None)
@given(st.lists(_WORDS, max_size=40).map("".join))
def test_token_soup_never_raises(text):
    data = text.encode()
    _check(parse_haresources(data), data)


def mutated_corpus():
    return shared_mutated_corpus("haresources", b"#\\\n\r\x00 \t/:.{}<>\xff")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_corpus())
def test_mutated_corpus_never_raises(data):
    _check(parse_haresources(data), data)
