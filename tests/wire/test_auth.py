"""verify(): results, the hadoctor view (per-index key) and the real-peer view (active key)."""

from __future__ import annotations

import pytest

from hadoctor.parsers.authkeys import parse_authkeys
from hadoctor.wire.auth import MALFORMED, OK, UNKNOWN_INDEX, UNSIGNED, WRONG_KEY, verify
from hadoctor.wire.codec import (FIELD, TRAILER, WireDecodeError, decode, encode_classic, encode_netstring,
                                 netstring_body, status_message)
from tests.wire import vectors as v

ROTATING = parse_authkeys(b"auth 1\n1 sha1 old\n2 sha1 new\n3 md5 other\n4 crc\n", "authkeys")


def msg():
    return status_message("node1", seq=1, hg=1, ts=1)


@pytest.mark.parametrize("encode", [encode_classic, encode_netstring])
@pytest.mark.parametrize("index,method,key", [(1, "sha1", "old"), (2, "sha1", "new"), (3, "md5", "other"),
                                              (4, "crc", None)])
def test_every_listed_key_verifies_with_its_own_entry(encode, index, method, key):
    verdict = verify(decode(encode(msg(), (index, method, key))), ROTATING)
    assert verdict.result == OK and verdict.index == index and verdict.method == method
    assert index in verdict.check.matching


def test_classic_peer_accepts_any_listed_key():
    verdict = verify(decode(encode_classic(msg(), (2, "sha1", "new"))), ROTATING)
    assert verdict.peer.accepts and verdict.peer.active_index == 1 and verdict.field_check is None


def test_netstring_peer_uses_the_active_key_whatever_the_index():
    """Signed with listed key 2, a receiver whose active key is 1 rejects it
    (docs/heartbeat/wire.md#which-key-verifies)."""
    verdict = verify(decode(encode_netstring(msg(), (2, "sha1", "new"))), ROTATING)
    assert verdict.check.result == OK and verdict.check.where == TRAILER
    assert verdict.field_check.result == OK and verdict.field_check.where == FIELD
    assert not verdict.peer.accepts and verdict.peer.result == WRONG_KEY
    assert verdict.peer.log.startswith("authtoken does not match")
    assert verify(decode(encode_netstring(msg(), (2, "sha1", "new"))), ROTATING, active_index=2).peer.accepts


def test_netstring_peer_quirk_accepts_a_foreign_index_signed_with_its_active_key():
    # index 2's method (sha1) with the ACTIVE key "old": the real daemon accepts it, hadoctor's check does not
    verdict = verify(decode(encode_netstring(msg(), (2, "sha1", "old"))), ROTATING)
    assert verdict.peer.accepts and verdict.check.result == WRONG_KEY and verdict.check.matching == (1,)
    assert "verifies with key 1" in verdict.check.reason


def test_netstring_md5_index_is_computed_with_the_active_key():
    verdict = verify(decode(encode_netstring(msg(), (3, "md5", "old"))), ROTATING)
    assert verdict.peer.accepts and verdict.check.result == WRONG_KEY


def test_unknown_index():
    for encode in (encode_classic, encode_netstring):
        verdict = verify(decode(encode(msg(), (7, "sha1", "old"))), ROTATING)
        assert verdict.result == UNKNOWN_INDEX and verdict.method is None and verdict.check.matching == (1,)
        assert not verdict.peer.accepts and verdict.peer.result == UNKNOWN_INDEX
        assert "[7]" in verdict.peer.log
    classic = verify(decode(encode_classic(msg(), (7, "sha1", "old"))), ROTATING)
    assert classic.peer.log == "Invalid authentication type [7] in message!"


def test_unconfigured_index_zero_quirk_in_netstring():
    """hb_compute_authentication returns HA_FAIL (0) for a missing entry, which equals index 0."""
    verdict = verify(decode(encode_netstring(msg(), (0, "sha1", "x"))), ROTATING)
    assert verdict.result == UNKNOWN_INDEX and verdict.peer.result == WRONG_KEY
    assert verdict.peer.log.startswith("authtoken does not match")


def test_wrong_key():
    for encode in (encode_classic, encode_netstring):
        verdict = verify(decode(encode(msg(), (1, "sha1", "stolen"))), ROTATING)
        assert verdict.result == WRONG_KEY and verdict.check.matching == () and not verdict.peer.accepts


def test_unsigned_and_malformed():
    assert verify(decode(encode_classic(msg())), ROTATING).result == UNSIGNED
    unsigned = verify(decode(encode_netstring(msg())), ROTATING)
    assert unsigned.result == UNSIGNED and unsigned.field_check.result == UNSIGNED and not unsigned.peer.accepts
    body = netstring_body(msg())
    assert verify(decode(body + b"3:abc,"), ROTATING).result == MALFORMED
    assert verify(decode(body + b"junk"), ROTATING).peer.log == "peel_netstring() error in getting auth string"
    garbled = msg().add("auth", "sha1 deadbeef")
    assert verify(decode(encode_classic(garbled)), ROTATING).result == MALFORMED
    assert verify(decode(encode_classic(garbled)), ROTATING).peer.log.startswith("Bad/invalid auth token")


def test_flipped_bytes_never_verify():
    keys = parse_authkeys(b"auth 1\n1 sha1 secret\n", "authkeys")
    for wire in (v.CLASSIC, v.NETSTRING):
        covered_end = len(wire) - 1 if wire is v.CLASSIC else 0x101
        for position in range(4, covered_end):
            data = bytearray(wire)
            data[position] ^= 0x01
            try:
                verdict = verify(decode(bytes(data)), keys)
            except WireDecodeError:
                continue
            assert verdict.result in (WRONG_KEY, MALFORMED, UNKNOWN_INDEX, UNSIGNED), position
            assert verdict.peer is not None and not verdict.peer.accepts, position


def test_mapping_of_keys_and_no_active_entry():
    verdict = verify(decode(v.NETSTRING), {1: parse_authkeys(b"auth 1\n1 sha1 secret\n").keys[1]})
    assert verdict.result == OK and verdict.peer is None
    no_active = parse_authkeys(b"1 sha1 secret\nauth 1\n", "authkeys")
    assert no_active.active_index is None
    assert verify(decode(v.NETSTRING), no_active).peer is None


def test_verdicts_never_show_keys():
    keys = parse_authkeys(b"auth 1\n1 sha1 Zq9-alpha-key\n2 md5 Zq9-beta-key\n", "authkeys")
    for signer in ((1, "sha1", "Zq9-stolen-key"), (2, "md5", "Zq9-beta-key"), (5, "sha1", "Zq9-alpha-key")):
        for encode in (encode_classic, encode_netstring):
            verdict = verify(decode(encode(msg(), signer)), keys)
            text = repr(verdict) + str(verdict.to_dict())
            assert "Zq9" not in text
