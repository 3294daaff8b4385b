"""Our own JSON files read back (``manifest.json``, ``authkeys.json``, ``probe-listen.json``), shape first.

A bundle or a node folder may come from anywhere: a file hadoctor wrote can be truncated, edited or
forged. ``json.loads`` followed by ``doc["nodes"][name]["items"]`` raises whatever the data makes it
raise (KeyError, TypeError, AttributeError, ValueError). :func:`load` instead checks the whole
document against a shape before any code uses it and turns a mismatch into one
:class:`~hadoctor.errors.InputError` that names the place inside the document.

A shape is a type (``str``, ``int``, ``float``, ``bool``, ``None``), a tuple of shapes (any of
them), :class:`ListOf`, :class:`MapOf` (an object with any keys) or :class:`Obj` (an object with
known keys; unknown keys are allowed, so newer files still load).

>>> shape = Obj({"format": str, "nodes": MapOf(Obj({"status": str}))}, required=("format",))
>>> load(b'{"format": "f/1", "nodes": {"n1": {"status": "ok"}}}', "m.json", shape)["nodes"]["n1"]["status"]
'ok'
>>> load(b'{"format": "f/1", "nodes": {"n1": {"status": 5}}}', "m.json", shape)
Traceback (most recent call last):
...
hadoctor.errors.InputError: m.json: nodes.n1.status is a number, expected a string
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Sequence

from hadoctor.errors import InputError

#: Deepest nesting :func:`load` accepts (none of our files nests more than a few levels).
MAX_DEPTH = 32
_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", type(None): "null",
          list: "a list", dict: "an object"}


@dataclass(frozen=True)
class ListOf:
    item: Any


@dataclass(frozen=True)
class MapOf:
    value: Any


@dataclass(frozen=True)
class Obj:
    fields: Dict[str, Any]
    required: Sequence[str] = field(default=())


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    return _NAMES.get(type(value), type(value).__name__)


def _expected(shape: Any) -> str:
    if isinstance(shape, tuple):
        return " or ".join(_expected(s) for s in shape)
    if shape is None:
        return "null"
    if isinstance(shape, ListOf):
        return "a list"
    if isinstance(shape, (MapOf, Obj)):
        return "an object"
    return _NAMES.get(shape, getattr(shape, "__name__", str(shape)))


def _fits(value: Any, shape: Any) -> bool:
    """Whether the value's own type fits (not its contents)."""
    if isinstance(shape, tuple):
        return any(_fits(value, s) for s in shape)
    if shape is None:
        return value is None
    if isinstance(shape, ListOf):
        return isinstance(value, list)
    if isinstance(shape, (MapOf, Obj)):
        return isinstance(value, dict)
    if shape is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if shape is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, shape)


def check(value: Any, shape: Any, where: str = "") -> None:
    """Raise ValueError naming ``where`` (a dotted path) when ``value`` does not have ``shape``."""
    if where.count(".") > MAX_DEPTH:
        raise ValueError(f"{where or 'the document'} is nested too deeply")
    if isinstance(shape, tuple):
        fitting = [s for s in shape if _fits(value, s)]
        if not fitting:
            raise ValueError(f"{where or 'the document'} is {_describe(value)}, expected {_expected(shape)}")
        check(value, fitting[0], where)
        return
    if not _fits(value, shape):
        raise ValueError(f"{where or 'the document'} is {_describe(value)}, expected {_expected(shape)}")
    prefix = where + "." if where else ""
    if isinstance(shape, ListOf):
        for i, item in enumerate(value):
            check(item, shape.item, f"{prefix}{i}")
    elif isinstance(shape, MapOf):
        for key, item in value.items():
            check(item, shape.value, f"{prefix}{key}")
    elif isinstance(shape, Obj):
        for key in shape.required:
            if key not in value:
                raise ValueError(f"{prefix}{key} is missing")
        for key, sub in shape.fields.items():
            if key in value:
                check(value[key], sub, f"{prefix}{key}")


def load(data: bytes, path: str, shape: Any, hint: str = "") -> Any:
    """The document in ``data`` if it has ``shape``; InputError (exit 2) naming what is wrong otherwise."""
    try:
        doc = json.loads(data.decode("utf-8", "surrogateescape"))
    except RecursionError:
        raise InputError(path, "not valid JSON: nested too deeply", hint) from None
    except ValueError as exc:  # JSONDecodeError, a number over 4,300 digits, a lone surrogate
        raise InputError(path, f"not valid JSON: {str(exc)[:120]}", hint) from None
    try:
        check(doc, shape)
    except ValueError as exc:
        raise InputError(path, str(exc)[:300], hint) from None
    return doc

