"""Secrets (authkeys keys, passwords) that must never be printed, logged or put in a repr."""

from __future__ import annotations

import hashlib
import hmac
import os

#: Salt for keyed fingerprints. One per process unless a caller (a bundle, a
#: cluster snapshot) supplies its own so that both nodes' fingerprints compare.
SESSION_SALT = os.urandom(16)


class Secret:
    """A string that hides itself. ``reveal()`` is the only way to the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def fingerprint(self, salt: bytes = SESSION_SALT) -> str:
        """A keyed fingerprint: equal for equal secrets under one salt, useless without the salt."""
        return fingerprint(self._value, salt)

    def __repr__(self) -> str:
        return "Secret(****)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value.encode("utf-8", "surrogateescape"),
                                                                  other._value.encode("utf-8", "surrogateescape"))

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def __len__(self) -> int:
        return len(self._value)


def fingerprint(value: str, salt: bytes = SESSION_SALT) -> str:
    digest = hmac.new(salt, value.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()
    return "hmac-sha256:" + digest[:16]
