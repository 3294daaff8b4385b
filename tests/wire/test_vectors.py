"""The worked example (docs/heartbeat/wire.md#worked-example), byte for byte, and the authenticator
constructions."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hadoctor.parsers.authkeys import parse_authkeys
from hadoctor.secrets import Secret
from hadoctor.wire.auth import OK, verify
from hadoctor.wire.codec import (CLASSIC, FIELD, FT_BINARY, NETSTRING, TRAILER, classic_body, decode, encode_classic,
                                 encode_netstring, netstring_body, status_message)
from hadoctor.wire.digest import compute, crc32_heartbeat, crc32_reference, crc_token
from tests.wire import vectors as v

SIGNER = (1, "sha1", v.KEY)


def example():
    return status_message(**v.STATUS)


def test_dumps_have_the_documented_sizes():
    assert len(v.CLASSIC) == 200 and v.CLASSIC.endswith(b"<<<\n\0")
    assert len(v.NETSTRING) == 303 and v.NETSTRING.endswith(b",")
    assert len(v.CLASSIC_SIGNED) == 143


def test_classic_signed_bytes_are_the_example():
    assert classic_body(example()) == v.CLASSIC_SIGNED


@pytest.mark.parametrize("method,token", [("sha1", v.SHA1_TOKEN), ("md5", v.MD5_TOKEN), ("crc", v.CRC_TOKEN)])
def test_tokens_over_the_classic_bytes(method, token):
    assert compute(method, v.KEY, v.CLASSIC_SIGNED) == token
    assert compute(method, Secret(v.KEY), v.CLASSIC_SIGNED) == token


def test_encode_classic_is_byte_identical():
    assert encode_classic(example(), SIGNER) == v.CLASSIC


def test_encode_netstring_is_byte_identical():
    assert encode_netstring(example(), SIGNER) == v.NETSTRING


def test_encode_with_authkeys_signs_with_the_active_entry():
    keys = parse_authkeys(b"auth 1\n1 sha1 secret\n2 md5 other\n", "authkeys")
    assert encode_netstring(example(), keys) == v.NETSTRING
    assert encode_classic(example(), keys.active) == v.CLASSIC


def test_trailer_covers_the_257_bytes_through_the_end_marker():
    d = decode(v.NETSTRING)
    assert d.trailer.covered == v.NETSTRING[:0x101] and d.trailer.covered.endswith(b"%%%\n")
    assert d.trailer.index == 1 and d.trailer.token == v.TRAILER_TOKEN
    assert compute("sha1", v.KEY, d.trailer.covered) == v.TRAILER_TOKEN
    assert netstring_body(d.message) == d.trailer.covered


def test_crc_trailer_shape():
    wire = encode_netstring(example(), (1, "crc", None))
    d = decode(wire)
    assert d.field_auth.token == v.CRC_TOKEN
    token = crc_token(d.trailer.covered)
    assert wire.endswith(b"%d:1 %s," % (len(token) + 2, token.encode()))


def test_decode_classic_example():
    d = decode(v.CLASSIC)
    m = d.message
    assert d.format == CLASSIC and d.length == 200 and d.trailing == 0 and d.trailer is None
    assert m.names() == ["t", "st", "dt", "protocol", "src", "srcuuid", "seq", "hg", "ts", "ld", "ttl", "auth"]
    assert (m.type, m.src, m.status, m.seq, m.hg, m.ts, m.dt, m.ttl, m.protocol) == \
        ("status", "node1", "active", 42, 3, 0x65A0F000, 30000, 3, 1)
    assert m.uuid == v.UUID and m.get_field("srcuuid").type == FT_BINARY
    assert d.field_auth.where == FIELD and (d.field_auth.index, d.field_auth.token) == (1, v.SHA1_TOKEN)
    assert d.field_auth.covered == v.CLASSIC_SIGNED
    assert d.auth is d.field_auth


def test_decode_netstring_example_reports_both_authenticators():
    d = decode(v.NETSTRING)
    assert d.format == NETSTRING and d.length == 303
    assert d.message == decode(v.CLASSIC).message
    assert d.auth is d.trailer and d.trailer.where == TRAILER
    assert (d.field_auth.index, d.field_auth.token) == (1, v.SHA1_TOKEN)
    assert d.field_auth.covered == v.CLASSIC_SIGNED


def test_example_verifies_and_tampered_copy_does_not():
    keys = parse_authkeys(b"auth 1\n1 sha1 secret\n", "authkeys")
    for wire in (v.CLASSIC, v.NETSTRING):
        verdict = verify(decode(wire), keys)
        assert verdict.result == OK and verdict.peer.accepts and verdict.method == "sha1"
        tampered = wire.replace(b"st=active", b"st=actize")
        assert verify(decode(tampered), keys).result == "wrong-key"
        assert not verify(decode(tampered), keys).peer.accepts


def test_crc_check_value():
    assert crc_token(b"123456789") == "765e7680"
    assert crc32_reference(b"123456789") == 0x765E7680


def test_crc_is_not_zero_padded():
    short = next(bytes([a, b]) for a in range(256) for b in range(256) if crc32_heartbeat(bytes([a, b])) < 1 << 28)
    token = crc_token(short)
    assert len(token) < 8 and not token.startswith("0") and int(token, 16) == crc32_heartbeat(short)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_fast_crc_equals_the_plugin_loop(data):
    assert crc32_heartbeat(data) == crc32_reference(data)


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=200), st.binary(max_size=300))
def test_hmac_methods_are_standard_hmac_including_long_keys(key, data):
    text_key = key.decode("latin-1")
    raw = text_key.encode("utf-8", "surrogateescape")
    assert compute("sha1", text_key, data) == hmac.new(raw, data, hashlib.sha1).hexdigest()
    assert compute("md5", text_key, data) == hmac.new(raw, data, hashlib.md5).hexdigest()


def test_unknown_method_and_missing_key_are_errors():
    with pytest.raises(ValueError):
        compute("sha256", "k", b"x")
    with pytest.raises(ValueError):
        compute("sha1", None, b"x")
