"""Untrusted bytes: decode() raises WireDecodeError and nothing else; verify() and the
summary accept whatever decode() returns.

Seeds are the real captured payloads and the worked example (docs/heartbeat/wire.md#worked-example);
mutations flip, overwrite, insert, delete, truncate, duplicate, splice and plant the encodings' own
delimiters and lengths.
"""

from __future__ import annotations

import random
import re
import time
import zlib
from collections import Counter
from typing import Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hadoctor.parsers.authkeys import parse_authkeys
from hadoctor.wire.auth import RESULTS, verify
from hadoctor.wire.codec import (FT_BINARY, FT_STRUCT, Message, WireDecodeError, decode, describe, encode_classic,
                                 encode_netstring, netstring_body)
from hadoctor.wire.summary import Summarizer
from tests.wire import vectors as v
from tests.wire.conftest import all_lab_payloads, lab_authkeys

KEYSETS = [parse_authkeys(b"auth 1\n1 sha1 secret\n2 md5 two\n3 crc\n", "authkeys"),
           parse_authkeys(b"auth 3\n0 sha1 zero\n3 crc\n", "authkeys"),
           lab_authkeys("healthy", "node01")]
TOKENS = [b">>>\n", b"<<<\n", b"###\n", b"%%%\n", b"\0", b"\n", b"=", b",", b":", b"(0)", b"(1)", b"(2)", b"(4)",
          b"(5)", b"(9)", b"auth=", b"42:1 ", b"4294967296:", b"999999999:", b"0:", b"\x13", b"-1 ", b"=="]


def seeds() -> list:
    real = all_lab_payloads()
    unique = list(dict.fromkeys(real))
    classic = [encode_classic(decode(p).message) for p in unique[:20]]
    inner = netstring_body(Message().add("a", "1"))
    extra = [
        netstring_body(Message().add("t", "x").add("s", inner, FT_STRUCT)),
        netstring_body(Message().add("_compressed_payload", zlib.compress(v.CLASSIC), FT_BINARY)
                       .add("_compression_algorithm", "zlib")) + b"10:1 8413cf73,",
        b">>>\n(1)srcuuid=DTt6LkwfS46aVW8tHA6beg==\nauth=3 0\n<<<\n\0",
    ]
    return [v.CLASSIC, v.NETSTRING] + unique + classic + extra


SEEDS = seeds()


def mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(10)
        n = len(buf)
        pos = rng.randrange(n + 1)
        if op == 0 and n:
            buf[pos % n] ^= 1 << rng.randrange(8)
        elif op == 1 and n:
            buf[pos % n] = rng.randrange(256)
        elif op == 2:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 3 and n:
            del buf[pos:pos + rng.randint(1, 16)]
        elif op == 4:
            del buf[rng.randrange(n + 1):]
        elif op == 5 and n:
            end = min(n, pos + rng.randint(1, 40))
            buf[end:end] = buf[pos:end]
        elif op == 6:
            other = rng.choice(SEEDS)
            cut = rng.randrange(len(other) + 1)
            buf[pos:] = other[cut:]
        elif op == 7:
            token = rng.choice(TOKENS)
            if rng.random() < 0.5:
                buf[pos:pos] = token
            else:
                buf[pos:pos + len(token)] = token
        elif op == 8:
            numbers = [m.span() for m in re.finditer(rb"[0-9]+", bytes(buf))]
            if numbers:
                start, end = rng.choice(numbers)
                buf[start:end] = str(rng.choice([0, 1, 7, 40, 41, 300, 65535, 2 ** 31, 2 ** 64,
                                                 int(buf[start:end]) + rng.choice([-1, 1])])).encode()
        elif op == 9 and n > 4:
            buf[4:] = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    return bytes(buf)


SIGNERS = [None, (1, "sha1", "secret"), (2, "md5", "two"), (3, "crc", None), (9, "sha1", "x"), (0, "sha1", "zero"),
           (1, "sha1", "lab-fixture-key-not-secret")]
MESSAGES = [decode(s).content for s in SEEDS]


def rebuild(rng: random.Random) -> bytes:
    """A structurally valid packet from a real message with edited fields, signed or not."""
    fields = list(rng.choice(MESSAGES).fields)
    for _ in range(rng.randint(0, 3)):
        op = rng.randrange(5)
        if op == 0 and fields:
            i = rng.randrange(len(fields))
            name, ftype, value = fields[i]
            fields[i] = (name, ftype, bytes(rng.randrange(256) for _ in range(rng.randint(0, 12))))
        elif op == 1 and fields:
            del fields[rng.randrange(len(fields))]
        elif op == 2 and fields:
            fields.insert(rng.randrange(len(fields) + 1), rng.choice(fields))
        elif op == 3:
            fields.append(("auth", 0, rng.choice([b"1 ", b"x", b"1 deadbeef", b"-1 ab", b"99999999999 a"])))
        elif op == 4 and fields:
            i = rng.randrange(len(fields))
            name, ftype, value = fields[i]
            fields[i] = (name, rng.randrange(6), value)
    message = Message((name, ftype, value) for name, ftype, value in fields)
    signer = rng.choice(SIGNERS)
    try:
        if rng.random() < 0.3:
            return encode_classic(message, signer)
        return encode_netstring(message, signer, field_auth=rng.random() < 0.7)
    except ValueError:  # not representable in classic form
        return netstring_body(message)


def exercise(data: bytes, summarizer: Summarizer, results: Optional[Counter] = None) -> bool:
    """Decode and verify; True when it decoded. Anything but WireDecodeError fails the test."""
    try:
        decoded = decode(data)
    except WireDecodeError as err:
        assert err.reason and isinstance(err.reason, str)
        return False
    except Exception as err:  # pragma: no cover - the failure report
        pytest.fail(f"decode raised {type(err).__name__}: {err} on {data!r}")
    try:
        for keys in KEYSETS:
            verdict = verify(decoded, keys)
            assert verdict.result in RESULTS
            assert verdict.peer is None or verdict.peer.result in RESULTS
            if results is not None:
                results[verdict.result] += 1
        describe(decoded)
        summarizer.add(0.0, "10.0.0.1", decoded)
    except Exception as err:  # pragma: no cover - the failure report
        pytest.fail(f"verify/summary raised {type(err).__name__}: {err} on {data!r}")
    return True


def fuzz_loop(count: int, seed: int) -> dict:
    rng = random.Random(seed)
    summarizer = Summarizer(KEYSETS[0], ["node01", "node02"])
    results: Counter = Counter()
    decoded = 0
    for i in range(count):
        kind = i % 10
        if kind == 0:
            data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 80)))
        elif kind == 1:
            data = rng.choice([b">>>\n", b"###\n"]) + bytes(rng.randrange(256) for _ in range(rng.randint(0, 80)))
        elif kind in (2, 3, 4):
            data = rebuild(rng)
        elif kind == 5:
            data = mutate(rng, rebuild(rng))
        else:
            data = mutate(rng, rng.choice(SEEDS))
        decoded += exercise(data, summarizer, results)
    summarizer.result()
    return {"count": count, "decoded": decoded, "results": results}


def test_fuzz_loop_100k():
    """100,000 random and mutated packets (about 10 s); only WireDecodeError may escape."""
    started = time.perf_counter()
    stats = fuzz_loop(100_000, seed=1)
    # the mix must reach both outcomes in quantity and every verdict, or the loop tests little
    assert 15_000 < stats["decoded"] < 85_000, stats
    assert set(stats["results"]) == set(RESULTS), stats
    assert time.perf_counter() - started < 60


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=400),
                 st.tuples(st.sampled_from([b">>>\n", b"###\n"]), st.binary(max_size=300)).map(b"".join)))
def test_hypothesis_random_bytes(data):
    exercise(data, Summarizer(KEYSETS[0]))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 400), st.integers(0, 40),
                                                  st.one_of(st.binary(max_size=6), st.sampled_from(TOKENS))),
                                        min_size=1, max_size=4))
def test_hypothesis_edits_of_real_packets(seed, edits):
    data = bytearray(seed)
    for pos, length, replacement in edits:
        pos %= len(data) + 1
        data[pos:pos + length] = replacement
    exercise(bytes(data), Summarizer(KEYSETS[0]))


netstring_fields = st.lists(st.tuples(st.integers(0, 40), st.sampled_from(b"0123456789("),
                                      st.binary(max_size=8), st.binary(max_size=20)), max_size=6)


@settings(max_examples=1000, deadline=None)
@given(netstring_fields, st.binary(max_size=50), st.booleans())
def test_hypothesis_structured_netstrings(fields, trailer, honest):
    parts = [b"###\n"]
    for declared, type_char, name, value in fields:
        body = b"(" + bytes([type_char]) + b")" + name + b"=" + value
        parts.append(b"%d:%s," % (len(body) if honest else declared, body))
    parts.append(b"%%%\n")
    data = b"".join(parts) + trailer
    exercise(data, Summarizer(KEYSETS[0]))
