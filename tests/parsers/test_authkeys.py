"""authkeys parser: heartbeat's parse_authfile rules, the key never leaking, robustness."""

from __future__ import annotations

import json

import pytest
from tests.conftest import mutated_corpus as shared_mutated_corpus, corpus_files, corpus_params, corpus_root
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hadoctor.parsers.authkeys import parse_authkeys, parse_stat_line
from hadoctor.secrets import fingerprint

#: the stock sample with no auth line: heartbeat refuses it
BROKEN = {"019"}
SALT = b"test-salt"


def errors(keys):
    return [p for p in keys.problems if p.severity == "error"]


def parse_file(prefix: str):
    matches = [p for p in corpus_files("authkeys") if p.name.startswith(prefix)]
    assert matches, f"corpus file authkeys/{prefix}* not found under {corpus_root()}"
    return matches[0], parse_authkeys(matches[0].read_bytes(), str(matches[0]), salt=SALT)


def all_output(keys) -> str:
    """Everything a user could see of the model, minus the path (corpus file names contain 'password')."""
    return " ".join([repr(keys), str(keys), json.dumps(keys.to_dict()), repr(keys.keys), str(keys.active),
                     " ".join(f"{p} {p.text}" for p in keys.problems)]).replace(keys.path, "")


# -- the whole corpus ---------------------------------------------------------------------

@pytest.mark.parametrize("path", corpus_params("authkeys"))
def test_corpus_file_parses(path):
    keys = parse_authkeys(path.read_bytes(), str(path), mode=0o600, salt=SALT)
    lines = path.read_bytes().count(b"\n") + 1
    for problem in keys.problems:
        assert problem.file == str(path) and 0 <= problem.line <= lines
    broken = path.name[:3] in BROKEN
    assert bool(errors(keys)) == broken, [str(p) for p in keys.problems]
    assert (keys.active is None) == broken
    for key in keys.keys.values():
        if key.key is not None:
            assert key.key.reveal() not in all_output(keys)


def test_019_missing_auth_directive():
    path, keys = parse_file("019")
    assert [(p.line, p.message) for p in keys.problems] == [(0, f"Missing auth directive in keyfile [{path}]")]
    assert keys.auth_lines == [] and keys.keys == {}


def test_024_quoted_key_takes_first_word_only():
    path, keys = parse_file("024")
    [problem] = keys.problems
    assert problem.severity == "warning" and "quotes" in problem.message
    assert keys.keys[1].key.reveal() == '"cluster'
    assert keys.active.method == "crc" and keys.active.key is None


def test_003_auth_selects_crc_while_md5_unused():
    _, keys = parse_file("003")
    assert keys.active_index == 2 and keys.active.method == "crc" and sorted(keys.keys) == [2, 3]


def test_011_inline_comments_after_key_are_ignored_quietly():
    _, keys = parse_file("011")
    assert keys.problems == [] and keys.active.key.reveal() == "1a2b3c"


# -- heartbeat's order semantics (docs/heartbeat/authkeys.md#line-order) -------------------------------

@pytest.mark.parametrize("text, active", [
    (b"auth 1\n1 sha1 a\nauth 2\n2 sha1 b\n", 2),
    (b"auth 2\n1 sha1 a\n2 sha1 b\nauth 1\n", 2),
    (b"auth 0\n0 md5 zero\n", 0),
    (b"  auth   3 \n3 crc\n", 3),
    (b"auth3\n3 crc\n", 3),
])
def test_active_key_chosen_while_reading(text, active):
    assert parse_authkeys(text).active_index == active


def test_auth_after_its_key_line_has_no_effect():
    keys = parse_authkeys(b"1 sha1 a\nauth 1\n", "ak")
    assert keys.active is None
    assert [(p.line, p.message) for p in errors(keys)] == [
        (2, "Auth Key [1] not found in keyfile [ak]; its key line comes before the auth line")]


def test_more_than_one_auth_line_warns():
    keys = parse_authkeys(b"auth 1\n1 sha1 a\nauth 2\n2 sha1 b\n")
    [problem] = keys.problems
    assert problem.severity == "warning" and problem.line == 3 and "signs with key 2" in problem.message
    assert keys.auth_lines == [(1, 1), (2, 3)]


def test_redefined_slot_changes_the_active_key():
    keys = parse_authkeys(b"auth 1\n1 sha1 old\nauth 2\n1 sha1 new\n", salt=SALT)
    assert keys.active_index == 1 and keys.active.key.reveal() == "new" and keys.active.line == 4
    assert keys.active.fingerprint == fingerprint("sha1:new", SALT)
    assert any("defined again" in p.message for p in keys.problems)
    assert any("Auth Key" not in p.message for p in keys.problems)


@pytest.mark.parametrize("line, message", [
    (b"16 sha1 x", "Invalid authnum [16] in ak"),
    (b"-1 sha1 x", "Invalid authnum [-1] in ak"),
    (b"1 sha256 x", "Invalid authtype [sha256]; heartbeat knows crc, md5 and sha1"),
    (b"1 SHA1 x", "Invalid authtype [SHA1]; heartbeat knows crc, md5 and sha1"),
    (b"1 crc x", "Auth method [crc] doesn't use a key"),
    (b"1 crc # no comments here", "Auth method [crc] doesn't use a key (a '#' there is no comment: it is read as "
                                  "a key)"),
    (b"1 sha1", "Auth method [sha1] requires a key"),
    (b"bogus line", "Auth line [**** ****] is invalid."),
    (b"sha1 secretkey", "Auth line [sha1 ****] is invalid."),
    (b"1", "Auth line [1] is invalid."),
    (b"authx 1", "Invalid auth line [**** ****] in ak"),
])
def test_refused_lines(line, message):
    keys = parse_authkeys(b"auth 1\n" + line + b"\n1 md5 fine\n", "ak")
    assert [(p.line, p.message) for p in errors(keys)] == [(2, message)]
    assert keys.active_index == 1


def test_refused_active_key_line_means_not_found():
    keys = parse_authkeys(b"auth 1\n1 sha1\n", "ak")
    assert [p.message for p in errors(keys)] == ["Auth method [sha1] requires a key",
                                                 "Auth Key [1] not found in keyfile [ak]"]


@pytest.mark.parametrize("mode, bad", [(0o600, False), (0o400, False), (0o620, False), (0o602, False),
                                       (0o700, False), (0o640, True), (0o644, True), (0o604, True),
                                       (0o100600, False), (0o100644, True)])
def test_permissions(mode, bad):
    keys = parse_authkeys(b"auth 1\n1 crc\n", "/etc/ha.d/authkeys", mode=mode, owner="root", group="root")
    expected = [(0, "Bad permissions on keyfile [/etc/ha.d/authkeys], 600 recommended.")] if bad else []
    assert [(p.line, p.message) for p in keys.problems] == expected
    assert keys.to_dict()["mode"] == f"{mode & 0o7777:04o}"


def test_no_mode_no_permission_check():
    assert parse_authkeys(b"auth 1\n1 crc\n").problems == []


# -- fingerprints and secrecy --------------------------------------------------------------

def test_fingerprints_compare_nodes_without_the_key():
    a = parse_authkeys(b"auth 1\n1 sha1 s3cret\n", salt=SALT).active.fingerprint
    b = parse_authkeys(b"auth 1\n1   sha1\ts3cret  # same\n", salt=SALT).active.fingerprint
    other_method = parse_authkeys(b"auth 1\n1 md5 s3cret\n", salt=SALT).active.fingerprint
    other_salt = parse_authkeys(b"auth 1\n1 sha1 s3cret\n", salt=b"other").active.fingerprint
    assert a == b and a != other_method and a != other_salt and "s3cret" not in a


PLANTED = "Pl4nted-K3y-9f1e"


@pytest.mark.parametrize("layout", [
    "auth 1\n1 sha1 {k}\n",
    "auth 1\n1 md5 {k} trailing words\n",
    "auth 1\n1 crc {k}\n",
    "auth 1\n1 {k}\n",
    "auth 1\n{k} sha1\n",
    "auth 1\nsha1 {k}\n",
    "auth 1\n99 sha1 {k}\n",
    "auth 1\n1 sha1 {k}\n1 sha1 {k}\nauth 4\n",
    "auth {k}\n",
    "a {k}\n",
])
def test_planted_key_never_appears(layout):
    keys = parse_authkeys(layout.format(k=PLANTED).encode(), "ak", mode=0o644, salt=SALT)
    assert PLANTED not in all_output(keys)


@settings(max_examples=150)
@given(st.text(alphabet=st.characters(blacklist_categories=("Zs", "Cc")), min_size=4, max_size=40).map("Zq".__add__),
       st.sampled_from(["auth 1\n1 sha1 {k}\n", "auth 1\n1 md5 {k} x\n", "{k}\n", "1 {k}\n", "auth 1\n1 crc {k}\n",
                        "auth 1\n1 sha1 {k}#c\n"]))
def test_random_key_never_appears(key, layout):
    keys = parse_authkeys(layout.format(k=key).encode("utf-8", "surrogatepass"), "/etc/ha.d/authkeys", salt=SALT)
    assert key not in all_output(keys)


# -- authkeys.stat ----------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("600 root root\n", (0o600, "root", "root")),
    ("0600 root root", (0o600, "root", "root")),
    ("644 root haclient", (0o644, "root", "haclient")),
    ("600", (0o600, None, None)),
    ("-rw------- root root", (0o600, "root", "root")),
    ("-rwsr-x--T root root", (0o5750, "root", "root")),
])
def test_parse_stat_line(text, expected):
    assert parse_stat_line(text) == expected


@pytest.mark.parametrize("text", ["", "   \n", "rw root root", "999 root root", "root 600"])
def test_parse_stat_line_refuses(text):
    with pytest.raises(ValueError):
        parse_stat_line(text)


# -- robustness ------------------------------------------------------------------------

def _check(keys, data: bytes) -> None:
    lines = data.count(b"\n") + 1
    for problem in keys.problems:
        assert isinstance(problem.line, int) and 0 <= problem.line <= lines
    assert keys.active_index is None or keys.active_index in keys.keys
    json.dumps(keys.to_dict())


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.one_of(st.none(), st.integers(0, 0o7777)))
def test_random_bytes_never_raise(data, mode):
    keys = parse_authkeys(data, mode=mode, salt=SALT)
    _check(keys, data)
    bad_mode = mode is not None and bool(mode & 0o044)
    assert any("Bad permissions" in p.message for p in keys.problems) == bad_mode


_WORDS = st.sampled_from(["auth", "auth ", "1", "2", "15", "16", "-1", "sha1", "md5", "crc", "key", "#", " ", "\t",
                          "\n", "\x00", "\x0b", "a"])


@settings(max_examples=150, deadline=None)
@given(st.lists(_WORDS, max_size=40).map("".join))
def test_token_soup_never_raises(text):
    data = text.encode()
    _check(parse_authkeys(data, salt=SALT), data)


def mutated_corpus():
    return shared_mutated_corpus("authkeys", b"#\n\r\x00 \ta0123456789")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_corpus())
def test_mutated_corpus_never_raises(data):
    _check(parse_authkeys(data, salt=SALT), data)
