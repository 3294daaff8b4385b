"""Heartbeat's authenticators: the token ``crc``, ``md5`` or ``sha1`` computes over a packet body.

Constructions (docs/heartbeat/wire.md#authentication-methods): ``md5`` and ``sha1`` are
standard HMAC with the authkeys key's bytes; ``crc`` is an unkeyed CRC-32 (poly 0x04C11DB7,
MSB first, init 0, final xor 0xFFFFFFFF, no length suffix) printed ``%lx``, i.e. without zero
padding. Signing
(:mod:`hadoctor.wire.codec`) and verifying (:mod:`hadoctor.wire.auth`) both use these.

>>> crc_token(b"123456789")
'765e7680'
"""

from __future__ import annotations

import hmac
from typing import Optional, Tuple, Union

from hadoctor.secrets import Secret

def _crc_table() -> Tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else (crc << 1)
        table.append(crc & 0xFFFFFFFF)
    return tuple(table)


CRC_TABLE = _crc_table()


def crc32_reference(data: bytes) -> int:
    """The plugin's loop, byte by byte (slow; the reference for :func:`crc32_heartbeat`)."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ CRC_TABLE[((crc >> 24) ^ byte) & 0xFF]
    return ~crc & 0xFFFFFFFF


_BITREV = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def crc32_heartbeat(data: bytes) -> int:
    """The crc plugin's CRC-32, computed fast: the MSB-first CRC of ``data`` is the bit-reversal
    of zlib's reflected CRC of the bit-reversed bytes (zlib's ``value=0xFFFFFFFF`` = init 0)."""
    import zlib

    reflected = zlib.crc32(bytes(data).translate(_BITREV), 0xFFFFFFFF)
    return int(f"{reflected:032b}"[::-1], 2)


def crc_token(data: bytes) -> str:
    return "%x" % crc32_heartbeat(data)


def key_bytes(key: Union[Secret, str, bytes, None]) -> Optional[bytes]:
    """A key as the bytes heartbeat uses (the authkeys token, no NUL). Never log the result."""
    if key is None:
        return None
    if isinstance(key, Secret):
        key = key.reveal()
    if isinstance(key, str):
        return key.encode("utf-8", "surrogateescape")
    return bytes(key)


def compute(method: str, key: Union[Secret, str, bytes, None], data: bytes) -> str:
    """The token ``method`` computes over ``data`` with ``key`` (lowercase hex)."""
    if method == "crc":
        return crc_token(data)
    if method not in ("md5", "sha1"):
        raise ValueError(f"unknown auth method {method[:20]!r}; heartbeat knows crc, md5 and sha1")
    raw = key_bytes(key)
    if raw is None:
        raise ValueError(f"auth method {method} needs a key")
    return hmac.digest(raw, data, method).hex()  # standard HMAC (RFC 2104), one-shot
