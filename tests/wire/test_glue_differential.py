"""Differential tests against Debian's real cluster-glue 1.0.12 (libplumb.so.2, what heartbeat
3.0.6 links): encodings byte for byte, and the decoder's accept/reject decisions and fields.

Skipped where the library is absent (test.sh installs it as root with the heartbeat packages).
"""

from __future__ import annotations

import random
import re

import pytest

from hadoctor.wire.digest import compute
from hadoctor.wire.codec import (FT_BINARY, FT_STRING, Message, WireDecodeError, decode, encode_classic,
                                 encode_netstring, netstring_body)
from tests.wire import glue
from tests.wire import vectors as v
from tests.wire.test_fuzz import SEEDS, mutate, rebuild

pytestmark = pytest.mark.skipif(glue.LIB is None, reason="Debian's libplumb.so.2 (cluster-glue) is not installed")

#: where we are deliberately stricter than glue (it accepts these through lax parsing or
#: undefined behaviour, or aborts on them): our WireDecodeError reasons, normalised
STRICTER = {
    "classic line without N (NV failure)",  # glue runs a name across the newline (strcspn)
    "field N: baseN length is not a multiple of N",  # glue ignores base64_to_binary's -1
    "field N: invalid baseN",
    "classic field with an empty name",
    "netstring message without the %%% end marker",  # glue accepts it only when no auth is needed
    "netstring field: no N after the length",  # glue's cl_parse_int and peel_netstring are lax
    "netstring field: no length",
    "netstring field does not start with (<type>)",  # glue asserts: abort()
    "netstring field type N is unknown",  # glue asserts, or indexes past fieldtypefuncs
}


def random_fields(rng: random.Random):
    alphabet = "abcdefghijklmnopqrstuvwxyz_0123456789 .:/-,"
    fields = []
    for _ in range(rng.randint(1, 12)):
        name = "".join(rng.choice(alphabet[:30]) for _ in range(rng.randint(1, 10)))
        if rng.random() < 0.3:
            fields.append((name, FT_BINARY, bytes(rng.randrange(256) for _ in range(rng.randint(0, 24)))))
        else:
            text = "".join(rng.choice(alphabet + "\n=%#>") for _ in range(rng.randint(0, 30)))
            fields.append((name, FT_STRING, text.encode()))
    return fields


def test_worked_example_through_glue():
    m = decode(v.NETSTRING).message
    fields = [tuple(f) for f in m]
    assert glue.encode(fields, "msg2wirefmt_noac") == v.CLASSIC
    keep = glue.set_authenticator(lambda which, data: (1, compute("sha1", v.KEY, data)))
    assert glue.encode(fields, "msg2netstring") == v.NETSTRING
    del keep


def test_random_messages_encode_byte_for_byte_like_glue():
    rng = random.Random(3)
    keep = glue.set_authenticator(lambda which, data: (7, compute("md5", "k", data)))
    for _ in range(300):
        fields = random_fields(rng)
        m = Message(fields)
        assert glue.encode(fields, "msg2wirefmt_noac") == encode_classic(m)
        assert glue.encode(fields, "msg2netstring_noauth") == netstring_body(m)
        assert glue.encode(fields, "msg2netstring") == encode_netstring(m, (7, "md5", "k"), field_auth=False)
        assert [tuple(f) for f in decode(encode_classic(m)).message] == fields
    del keep


def _ours(data: bytes):
    try:
        return [(f.name, f.type, f.value if f.type in (0, 1) else None) for f in decode(data).message], None
    except WireDecodeError as err:
        return None, re.sub(r"b?'[^']*'|b\"[^\"]*\"|[0-9]+", "N", err.reason)


def test_decoder_agrees_with_glue_on_mutated_packets():
    rng = random.Random(11)
    seeds = [s for s in SEEDS if b"_compressed" not in s]  # glue would need its compression plugins
    stricter = 0
    for i in range(600):
        data = rebuild(rng) if i % 4 == 0 else mutate(rng, rebuild(rng) if i % 4 == 1 else rng.choice(seeds))
        if b"_compressed" in data:
            continue
        theirs = glue.decode_forked(data)
        ours, reason = _ours(data)
        if ours is not None:
            assert theirs == ours, data  # glue accepts what we accept, with the same fields
        elif theirs is not None:
            assert reason in STRICTER, (reason, theirs == "crash", data)
            stricter += 1
    assert stricter > 0  # the mutations do reach the lax corners
