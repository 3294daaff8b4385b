"""Packet verification against authkeys (the tokens themselves: :mod:`hadoctor.wire.digest`).

:func:`verify` gives two views of a packet:

- ``check``: does the authenticator verify with *our* entry at the packet's index (its own
  method and key)? That is what a classic receiver does, and what hadoctor can tell.
- ``peer``: would a real heartbeat 3.0.6 with these authkeys accept it? For netstring it
  takes the method of the packet's index but the key of its ACTIVE entry
  (``hb_compute_authentication``, docs/heartbeat/wire.md#which-key-verifies), so a packet
  signed with another listed key fails.

>>> from hadoctor.parsers.authkeys import parse_authkeys
>>> keys = parse_authkeys(b"auth 1\\n1 sha1 old\\n2 sha1 new\\n", "authkeys")
>>> from hadoctor.wire.codec import Message, decode, encode_netstring
>>> m = Message([("t", "status"), ("src", "n1"), ("seq", "1"), ("ts", "1")])
>>> v = verify(decode(encode_netstring(m, (2, "sha1", "new"))), keys)
>>> v.check.result, v.check.index, v.peer.accepts, v.peer.result
('ok', 2, False, 'wrong-key')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Tuple, Union

from hadoctor.parsers.authkeys import MAX_AUTH, Authkeys, AuthKey
from hadoctor.wire.codec import CLASSIC, FIELD, NETSTRING, TRAILER, AuthToken, Decoded
from hadoctor.wire.digest import compute, key_bytes

OK = "ok"
UNKNOWN_INDEX = "unknown-index"
WRONG_KEY = "wrong-key"
MALFORMED = "malformed"
UNSIGNED = "unsigned"
RESULTS = (OK, UNKNOWN_INDEX, WRONG_KEY, MALFORMED, UNSIGNED)


@dataclass(frozen=True)
class Check:
    """One authenticator checked with our entry at the packet's index (that entry's own key).

    ``matching``: every entry of ours whose method and key reproduce the token, whatever its
    index (empty when none does; a foreign cluster's packet typically matches nothing).
    """

    where: str  # codec.FIELD or codec.TRAILER
    index: Optional[int]
    method: Optional[str]
    result: str
    reason: str
    token: Optional[str] = None
    matching: Tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        return self.result == OK


@dataclass(frozen=True)
class PeerView:
    """What a real heartbeat 3.0.6 whose authkeys are ours and whose active entry is
    ``active_index`` does with the packet; ``log`` is the first line it would write."""

    active_index: int
    accepts: bool
    result: str
    log: str


@dataclass(frozen=True)
class Verdict:
    """``check``: the authenticator receivers check (trailer for netstring, auth field for
    classic); ``field_check``: netstring only, the inner ``auth`` field (ignored by receivers);
    ``peer``: the real-receiver view (None when the authkeys have no active entry)."""

    format: str
    check: Check
    field_check: Optional[Check] = None
    peer: Optional[PeerView] = None

    @property
    def index(self) -> Optional[int]:
        return self.check.index

    @property
    def method(self) -> Optional[str]:
        return self.check.method

    @property
    def result(self) -> str:
        return self.check.result

    @property
    def ok(self) -> bool:
        return self.check.ok

    def to_dict(self) -> dict:
        def c(x: Optional[Check]) -> Optional[dict]:
            return None if x is None else {"where": x.where, "index": x.index, "method": x.method,
                                           "result": x.result, "reason": x.reason, "matching": list(x.matching)}
        peer = None if self.peer is None else {"active_index": self.peer.active_index, "accepts": self.peer.accepts,
                                               "result": self.peer.result, "log": self.peer.log}
        return {"format": self.format, "check": c(self.check), "field_check": c(self.field_check), "peer": peer}


KeySource = Union[Authkeys, Mapping[int, AuthKey]]


class _Tokens:
    """Computes tokens once per (method, key) over one byte string."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.cache: Dict[Tuple[str, Optional[bytes]], Optional[str]] = {}

    def get(self, method: str, key: object) -> Optional[str]:
        raw = key_bytes(key)  # type: ignore[arg-type]
        cache_key = (method, raw)
        if cache_key not in self.cache:
            try:
                self.cache[cache_key] = compute(method, raw, self.data)
            except ValueError:
                self.cache[cache_key] = None
        return self.cache[cache_key]


def _tokens(cache: Dict[int, _Tokens], data: bytes) -> _Tokens:
    tokens = cache.get(id(data))
    if tokens is None or tokens.data is not data:
        tokens = cache[id(data)] = _Tokens(data)
    return tokens


def _check(auth: Optional[AuthToken], where: str, keys: Mapping[int, AuthKey], cache: Dict[int, _Tokens]) -> Check:
    if auth is None:
        return Check(where, None, None, UNSIGNED, "no authenticator" if where == TRAILER else "no auth field")
    if not auth.well_formed:
        return Check(where, auth.index, None, MALFORMED, auth.problem or "malformed authenticator")
    entry = keys.get(auth.index)  # type: ignore[arg-type]
    method = entry.method if entry is not None else None
    if auth.covered is None:
        return Check(where, auth.index, method, MALFORMED, auth.problem or "signed bytes cannot be reproduced",
                     auth.token)
    tokens = _tokens(cache, auth.covered)
    matching = tuple(sorted(i for i, k in keys.items() if tokens.get(k.method, k.key) == auth.token))
    if entry is None:
        return Check(where, auth.index, None, UNKNOWN_INDEX, f"key index {auth.index} is not in these authkeys",
                     auth.token, matching)
    if auth.index in matching:
        return Check(where, auth.index, method, OK, f"verifies with key {auth.index} ({method})", auth.token,
                     matching)
    also = f"; it verifies with key {', '.join(map(str, matching))}" if matching else ""
    return Check(where, auth.index, method, WRONG_KEY,
                 f"does not verify with key {auth.index} ({method}){also}", auth.token, matching)


def _peer_classic(decoded: Decoded, keys: Mapping[int, AuthKey], active: int, cache: Dict[int, _Tokens]) -> PeerView:
    """``isauthentic``: the entry at the packet's index, with that entry's own key."""
    auth = decoded.field_auth
    src = decoded.message.src or "?"
    failed = f"string2msg_ll: node [{src}] failed authentication"
    if auth is None or not auth.well_formed:
        return PeerView(active, False, UNSIGNED if auth is None else MALFORMED,
                        f"Bad/invalid auth token, authtoken={'(nil)' if auth is None else '0x...'}")
    entry = keys.get(auth.index) if 0 <= auth.index < MAX_AUTH else None  # type: ignore[operator]
    if entry is None:
        return PeerView(active, False, UNKNOWN_INDEX, f"Invalid authentication type [{auth.index}] in message!")
    if auth.covered is None:
        return PeerView(active, False, MALFORMED, failed)
    if _tokens(cache, auth.covered).get(entry.method, entry.key) == auth.token:
        return PeerView(active, True, OK, "")
    return PeerView(active, False, WRONG_KEY, failed)


def _peer_netstring(decoded: Decoded, keys: Mapping[int, AuthKey], active: int,
                    cache: Dict[int, _Tokens]) -> PeerView:
    """``is_auth_netstring`` + 3.0.6's ``hb_compute_authentication``: the method of the
    packet's index, the key of the receiver's active entry."""
    auth = decoded.trailer
    if auth is None:
        return PeerView(active, False, UNSIGNED, "peel_netstring() error in getting auth string")
    if not auth.well_formed:
        bad = auth.problem and auth.problem.startswith("netstring")
        return PeerView(active, False, MALFORMED, "peel_netstring() error in getting auth string" if bad
                        else "Bad/invalid netstring auth string")
    which = auth.index
    assert which is not None and auth.covered is not None
    active_entry = keys.get(active)
    if which < 0:  # -1 means "the active index" to hb_compute_authentication, which then returns that index
        return PeerView(active, False, UNKNOWN_INDEX, f"Invalid authentication [{which}] in message!")
    entry = keys.get(which) if which < MAX_AUTH else None
    if entry is None:
        if which == 0:  # HA_FAIL is 0: index 0 passes the index check, then the empty token mismatches
            return PeerView(active, False, WRONG_KEY, f"authtoken does not match, authtoken={auth.token}, authstr=")
        return PeerView(active, False, UNKNOWN_INDEX, f"Invalid authentication [{which}] in message!")
    if active_entry is None:  # pragma: no cover - callers pass a configured active index
        return PeerView(active, False, WRONG_KEY, "no active key")
    if entry.method != "crc" and active_entry.key is None:
        return PeerView(active, False, WRONG_KEY,
                        f"undefined: method {entry.method} of key {which} with the keyless active crc entry")
    computed = _tokens(cache, auth.covered).get(entry.method, active_entry.key)
    if computed == auth.token:
        return PeerView(active, True, OK, "")
    return PeerView(active, False, WRONG_KEY, f"authtoken does not match, authtoken={auth.token}, authstr={computed}")


def verify(decoded: Decoded, authkeys: KeySource, *, active_index: Optional[int] = None) -> Verdict:
    """Check a decoded packet against authkeys (an :class:`Authkeys` or ``{index: AuthKey}``).

    ``active_index`` is the receiver's active entry for the peer view (default: the
    Authkeys' own); with no active entry there is no peer view.
    """
    if isinstance(authkeys, Authkeys):
        keys: Mapping[int, AuthKey] = authkeys.keys
        if active_index is None:
            active_index = authkeys.active_index
    else:
        keys = authkeys
    cache: Dict[int, _Tokens] = {}
    main = _check(decoded.auth, TRAILER if decoded.format == NETSTRING else FIELD, keys, cache)
    field_check = _check(decoded.field_auth, FIELD, keys, cache) if decoded.format == NETSTRING else None
    peer = None
    if active_index is not None and active_index in keys:
        peer = (_peer_netstring if decoded.format == NETSTRING else _peer_classic)(decoded, keys, active_index, cache)
    return Verdict(decoded.format if decoded.format in (CLASSIC, NETSTRING) else "?", main, field_check, peer)
