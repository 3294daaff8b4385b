"""Heartbeat's wire messages: the classic (``>>>``) and netstring (``###``) encodings.

A message is an ordered list of fields (name, type code 0..5, value bytes). :func:`decode`
reads one UDP payload the way glue 1.0.12's ``wirefmt2msg`` does (docs/heartbeat/wire.md#the-two-encodings,
docs/heartbeat/wire.md#sizes-and-compression), reports the authenticators it carries
(docs/heartbeat/wire.md#auth-bytes) with the exact bytes each one covers, and raises
nothing but :class:`WireDecodeError`. :func:`encode_classic` and :func:`encode_netstring`
produce heartbeat's bytes (checked byte for byte against docs/heartbeat/wire.md#worked-example).

>>> m = status_message("node1", seq=0x2a, hg=3, ts=0x65a0f000, st="active", dt=30000, ld="0.00 0.01 0.05 1/123 4567")
>>> wire = encode_netstring(m, (1, "crc", None))
>>> wire[:25], wire[-14:]
(b'###\\n11:(0)t=status,12:(0)', b'10:1 9d5212b3,')
>>> d = decode(wire)
>>> d.format, d.message.src, d.message.seq, d.trailer.index, d.trailer.token, d.field_auth.token
('netstring', 'node1', 42, 1, '9d5212b3', '251539d3')
>>> decode(b"hello world")
Traceback (most recent call last):
  ...
hadoctor.wire.codec.WireDecodeError: not a heartbeat message: it starts with b'hell', not >>> or ###
"""

from __future__ import annotations

import binascii
import re
import uuid as _uuid
import zlib
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, NamedTuple, Optional, Tuple, Union

FT_STRING, FT_BINARY, FT_STRUCT, FT_LIST, FT_COMPRESS, FT_UNCOMPRESS = range(6)
TYPE_NAMES = ("string", "binary", "struct", "list", "compress", "uncompress")

CLASSIC = "classic"
NETSTRING = "netstring"

MSG_START = b">>>\n"
MSG_END = b"<<<\n"
NS_START = b"###\n"
NS_END = b"%%%\n"
#: a newline inside a classic string value travels as this byte (glue ``SPECIAL_SYM``)
SPECIAL_SYM = b"\x13"
#: glue ``MAXMSG`` (largest wire message) and ``MAXUNCOMPRESSED`` (largest decompressed one)
MAXMSG = 256 * 1024
MAXUNCOMPRESSED = 2 * 1024 * 1024
#: glue ``MAXDEPTH``: how deep struct fields may nest; ``SPECIAL_SYMS[depth]`` stands for a
#: newline inside a classic struct field at that depth
MAXDEPTH = 16
SPECIAL_SYMS = (20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 15, 16, 17, 18)

COMPRESSED_FIELD = "_compressed_payload"
COMPRESS_NAME = "_compression_algorithm"
AUTH_FIELD = "auth"

#: where an authenticator sits: the classic-style ``auth`` field, or the netstring trailer
FIELD = "field"
TRAILER = "trailer"


class WireDecodeError(ValueError):
    """The bytes are not a message heartbeat would parse. ``reason`` says why; ``offset`` where."""

    def __init__(self, reason: str, offset: Optional[int] = None) -> None:
        super().__init__(reason if offset is None else f"{reason} (byte {offset})")
        self.reason = reason
        self.offset = offset


class Field(NamedTuple):
    """One field. ``value`` is the raw value: text bytes for strings, the decoded bytes for
    binary fields (base64 is only the classic transport), the nested encoding for the rest."""

    name: str
    type: int
    value: bytes

    @property
    def text(self) -> str:
        return self.value.decode("utf-8", "surrogateescape")

    def shown(self, limit: int = 80) -> str:
        """The value for display: text for strings, ``0x<hex>`` (shortened) for the others."""
        if self.type == FT_STRING:
            text = self.value.decode("utf-8", "replace")
        else:
            text = "0x" + self.value.hex()
        return text if len(text) <= limit else text[: limit - 1] + "…"


def _to_bytes(value: Union[str, bytes, bytearray, memoryview]) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"field value must be str or bytes, not {type(value).__name__}")


_HEX = re.compile(rb"[ \t\n\v\f\r]*([+-]?)(?:0[xX])?([0-9a-fA-F]+)")
_DEC = re.compile(rb"[ \t\n\v\f\r]*([+-]?[0-9]+)")


def c_int(digits: bytes) -> int:
    """A decimal as C reads it into a long: saturated (and never Python's digit limit error)."""
    negative = digits[:1] == b"-"
    digits = digits.lstrip(b"+-").lstrip(b"0") or b"0"
    value = int(digits) if len(digits) <= 19 else 1 << 63
    value = min(value, (1 << 63) - (0 if negative else 1))
    return -value if negative else value


def parse_hex(value: Optional[bytes]) -> Optional[int]:
    """``sscanf("%lx")``: leading blanks, optional sign and ``0x``, then hex digits; None if none.

    >>> parse_hex(b"2a"), parse_hex(b"0x1f40"), parse_hex(b"7zz"), parse_hex(b"zz")
    (42, 8000, 7, None)
    """
    if value is None:
        return None
    m = _HEX.match(value)
    if m is None:
        return None
    number = int(m.group(2), 16)
    return -number if m.group(1) == b"-" else number


def parse_dec(value: Optional[bytes]) -> Optional[int]:
    if value is None:
        return None
    m = _DEC.match(value)
    return c_int(m.group(1)) if m else None


class Message:
    """An ordered list of :class:`Field`. Lookups return the first field of a name, as glue's
    ``ha_msg_value`` does.

    >>> m = Message([("t", "status"), ("src", "node1"), ("srcuuid", FT_BINARY, b"\\x01" * 16)])
    >>> m.type, m.src, m.get("nope"), len(m), "src" in m, m.get_field("srcuuid").type
    ('status', 'node1', None, 3, True, 1)
    """

    __slots__ = ("fields",)

    def __init__(self, fields: Iterable = ()) -> None:
        self.fields: List[Field] = []
        for item in fields:
            if isinstance(item, Field):
                self.fields.append(item)
            elif len(item) == 2:
                self.add(item[0], item[1])
            else:
                self.add(item[0], item[2], item[1])

    @classmethod
    def _of(cls, fields: List[Field]) -> "Message":
        """Wrap an already-checked list of Field (the decoder's fast path)."""
        message = cls.__new__(cls)
        message.fields = fields
        return message

    # -- building --------------------------------------------------------------------------
    def add(self, name: str, value: Union[str, bytes], type: int = FT_STRING) -> "Message":
        """Append a field (``type``: 0 string, 1 binary, ...); returns the message."""
        if not isinstance(name, str) or not name:
            raise ValueError("a field needs a non-empty name")
        if not 0 <= type < len(TYPE_NAMES):
            raise ValueError(f"field type must be 0..5, not {type}")
        self.fields.append(Field(name, type, _to_bytes(value)))
        return self

    def set(self, name: str, value: Union[str, bytes], type: int = FT_STRING) -> "Message":
        """Replace the first field called ``name`` in place, or append it (glue ``ha_msg_mod``)."""
        for i, f in enumerate(self.fields):
            if f.name == name:
                self.fields[i] = Field(name, type, _to_bytes(value))
                return self
        return self.add(name, value, type)

    def copy(self) -> "Message":
        return Message(self.fields)

    def without(self, *names: str) -> "Message":
        return Message(f for f in self.fields if f.name not in names)

    # -- reading ---------------------------------------------------------------------------
    def get_field(self, name: str) -> Optional[Field]:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def get_bytes(self, name: str) -> Optional[bytes]:
        f = self.get_field(name)
        return None if f is None else f.value

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:
        f = self.get_field(name)
        return default if f is None else f.text

    def get_all(self, name: str) -> List[str]:
        return [f.text for f in self.fields if f.name == name]

    def names(self) -> List[str]:
        return [f.name for f in self.fields]

    def __contains__(self, name: object) -> bool:
        return any(f.name == name for f in self.fields)

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and self.fields == other.fields

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{f.name}={f.shown(24)}" if f.type == FT_STRING else f"({f.type}){f.name}={f.shown(24)}"
                          for f in self.fields)
        return f"Message({inner})"

    def to_dict(self) -> dict:
        return {"fields": [{"name": f.name, "type": f.type, "value": f.shown(10_000)} for f in self.fields]}

    # -- heartbeat's field names (glue include/ha_msg.h), docs/heartbeat/wire.md#message-model
    @property
    def type(self) -> Optional[str]:
        """``t``: the message type (``status``, ``NS_ackmsg``, ...)."""
        return self.get("t")

    @property
    def src(self) -> Optional[str]:
        return self.get("src")

    @property
    def dest(self) -> Optional[str]:
        return self.get("dest")

    @property
    def status(self) -> Optional[str]:
        """``st``: init, up, active, dead, ping."""
        return self.get("st")

    st = status

    @property
    def seq(self) -> Optional[int]:
        """``seq`` as an int (it travels as lowercase hex)."""
        return parse_hex(self.get_bytes("seq"))

    @property
    def hg(self) -> Optional[int]:
        """``hg``, the generation (hex; heartbeat reads a missing one as 0)."""
        return parse_hex(self.get_bytes("hg"))

    @property
    def ts(self) -> Optional[int]:
        """``ts``: the sender's ``time(NULL)`` (hex)."""
        return parse_hex(self.get_bytes("ts"))

    @property
    def dt(self) -> Optional[int]:
        """``dt``: the sender's deadtime for itself, in ms (hex)."""
        return parse_hex(self.get_bytes("dt"))

    @property
    def ttl(self) -> Optional[int]:
        return parse_dec(self.get_bytes("ttl"))

    @property
    def protocol(self) -> Optional[int]:
        return parse_dec(self.get_bytes("protocol"))

    @property
    def ld(self) -> Optional[str]:
        return self.get("ld")

    @property
    def srcuuid(self) -> Optional[bytes]:
        return self.get_bytes("srcuuid")

    @property
    def uuid(self) -> Optional[_uuid.UUID]:
        raw = self.srcuuid
        return _uuid.UUID(bytes=raw) if raw is not None and len(raw) == 16 else None

    @property
    def auth(self) -> Optional[str]:
        """The (last) ``auth`` field, ``"<index> <hex>"`` (the one heartbeat's ``isauthentic`` reads)."""
        values = self.get_all(AUTH_FIELD)
        return values[-1] if values else None


def status_message(src: str, *, seq: int, hg: int, ts: int, st: str = "active", dt: int = 30000,
                   protocol: Optional[int] = 1, srcuuid: Union[bytes, _uuid.UUID, None] = None,
                   ld: str = "0.00 0.00 0.00 1/100 1000", ttl: int = 3) -> Message:
    """A status (keepalive) message with heartbeat's field order and formats, unsigned
    (docs/heartbeat/wire.md#status-message-fields).

    ``seq``, ``hg``, ``ts`` and ``dt`` (ms) are ints, written as lowercase hex.
    """
    m = Message().add("t", "status").add("st", st).add("dt", f"{dt:x}")
    if protocol is not None:
        m.add("protocol", str(protocol))
    m.add("src", src)
    if srcuuid is not None:
        m.add("srcuuid", srcuuid.bytes if isinstance(srcuuid, _uuid.UUID) else srcuuid, FT_BINARY)
    return m.add("seq", f"{seq:x}").add("hg", f"{hg:x}").add("ts", f"{ts:x}").add("ld", ld).add("ttl", str(ttl))


@dataclass(frozen=True)
class AuthToken:
    """One authenticator found in a packet.

    ``where`` is :data:`FIELD` (the classic-style ``auth=<index> <hex>`` field) or
    :data:`TRAILER` (netstring ``<len>:<index> <hex>,`` after ``%%%``). ``index`` and
    ``token`` are what heartbeat's ``sscanf("%d %s")`` reads, None when it reads nothing
    (``problem`` says why). ``covered`` is the exact byte string the authenticator is
    computed over (None when hadoctor cannot reproduce it, e.g. struct fields).
    """

    where: str
    raw: bytes
    index: Optional[int]
    token: Optional[str]
    covered: Optional[bytes] = field(default=None, repr=False)
    problem: Optional[str] = None

    @property
    def well_formed(self) -> bool:
        return self.index is not None and self.token is not None


@dataclass(frozen=True)
class Decoded:
    """A decoded packet.

    - ``format``: :data:`CLASSIC` or :data:`NETSTRING`; ``message``: the fields as on the wire.
    - ``field_auth``: the (last) ``auth`` field, the authenticator classic receivers check;
      netstring packets from heartbeat 3.0.x carry one too (receivers ignore it).
    - ``trailer``: netstring only, the authenticator netstring receivers check; None when
      nothing follows ``%%%`` (an unsigned packet).
    - ``length``: the bytes a receiver reads; ``trailing``: bytes after them, ignored.
    - ``compression``: the ``_compression_algorithm`` when the packet carries a
      ``_compressed_payload``; ``inner``: the decompressed message, decoded (zlib, and bz2 when
      Python has it), or None with ``inner_problem`` saying why.
    """

    format: str
    message: Message
    length: int
    field_auth: Optional[AuthToken] = None
    trailer: Optional[AuthToken] = None
    trailing: int = 0
    compression: Optional[str] = None
    inner: Optional["Decoded"] = None
    inner_problem: Optional[str] = None

    @property
    def compressed(self) -> bool:
        return self.compression is not None

    @property
    def content(self) -> Message:
        """The message heartbeat processes: the decompressed one when there is one."""
        return self.inner.message if self.inner is not None else self.message

    @property
    def auth(self) -> Optional[AuthToken]:
        """The authenticator a real receiver checks: the trailer (netstring) or the auth field (classic)."""
        return self.trailer if self.format == NETSTRING else self.field_auth


# --------------------------------------------------------------------------------------------
# decoding

_AUTH_SCAN = re.compile(rb"[ \t\n\v\f\r]*([+-]?[0-9]+)[ \t\n\v\f\r]*([^ \t\n\v\f\r]+)")
_NL_OR_NUL = re.compile(rb"[\n\x00]")
_EQ_NL_OR_NUL = re.compile(rb"[=\n\x00]")
_NEWLINES = re.compile(rb"\n*")
_DIGITS = re.compile(rb"[0-9]+")
_NS_FIELD = re.compile(rb"([0-9]{1,10}):\(([0-9])\)((?!>>>)[^(=\x00][^=\x00]*)=")


def scan_auth(raw: bytes) -> Optional[Tuple[int, str]]:
    """What ``sscanf(s, "%d %s")`` reads from an auth string (C string: stops at NUL).

    >>> scan_auth(b"1 5ef81f"), scan_auth(b" 2   abc def"), scan_auth(b"x 1"), scan_auth(b"3")
    ((1, '5ef81f'), (2, 'abc'), None, None)
    """
    nul = raw.find(b"\0")
    if nul >= 0:
        raw = raw[:nul]
    m = _AUTH_SCAN.match(raw)
    if m is None:
        return None
    return c_int(m.group(1)), m.group(2).decode("latin-1")


def decode(data: bytes) -> Decoded:
    """Decode one heartbeat packet (a UDP payload). Raises only :class:`WireDecodeError`."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"decode() needs bytes, not {type(data).__name__}")
    return _decode(bytes(data), 0)


def _decode(data: bytes, depth: int) -> Decoded:
    head = data[:4]
    if head == NS_START:
        fields, end = _netstring_fields(data, depth)
        fmt = NETSTRING
    elif head == MSG_START:
        fields, end = _classic_fields(data, depth)
        fmt = CLASSIC
    else:
        raise WireDecodeError(f"not a heartbeat message: it starts with {head!r}, not >>> or ###")
    message = Message._of(fields)
    field_auth = _field_auth(message)
    trailer = None
    length = end
    if fmt == NETSTRING and end < len(data):
        trailer, length = _trailer(data, end)
    decoded = Decoded(fmt, message, length, field_auth, trailer, len(data) - length)
    compressed = message.get_field(COMPRESSED_FIELD)
    if compressed is not None and compressed.type == FT_BINARY:
        algorithm = message.get(COMPRESS_NAME) or ""
        inner, problem = (None, "a message compressed inside a compressed message") if depth else \
            _decompress(algorithm, compressed.value, depth)
        decoded = Decoded(fmt, message, length, field_auth, trailer, len(data) - length, algorithm or "?",
                          inner, problem)
    return decoded


def _classic_fields(data: bytes, depth: int = 0) -> Tuple[List[Field], int]:
    """A port of glue's ``string2msg_ll``: the same loop, the same accept/reject decisions,
    with one exception. The C receive buffer is NUL-terminated after the datagram, hence the
    sentinel; a NUL right after a value ends the message.

    The exception: glue looks for a name's ``=`` past the end of the line (``strcspn``), so a
    line without ``=`` swallows the next line into its name and that next line is then read
    again. No sender writes that, and copying those names costs quadratic time and memory on
    a crafted packet, so such a line is rejected here (docs/heartbeat/wire.md#classic-encoding).
    """
    if depth >= MAXDEPTH:
        raise WireDecodeError("struct fields nested too deeply")
    buf = data + b"\0"
    smax = len(data)
    sp = 4
    fields = _Fields()
    while buf[sp] != 0 and not buf.startswith(MSG_END, sp):
        sp = _NEWLINES.match(buf, sp).end()
        if sp >= smax:
            raise WireDecodeError("classic message ends without <<< or a NUL", sp)
        if buf.startswith(MSG_END, sp):
            break
        eq = _EQ_NL_OR_NUL.search(buf, sp).start()
        if eq == sp or buf[eq] != 0x3D:
            raise WireDecodeError("classic line without '=' (NV failure)", sp)
        valp = eq + 1
        if valp >= smax:
            raise WireDecodeError("classic value runs past the end", valp)
        vend = _NL_OR_NUL.search(buf, valp).start()
        if vend >= smax:
            raise WireDecodeError("classic value runs past the end", valp)
        fields.add(_classic_field(buf[sp:eq], buf[valp:vend], sp, depth), sp)
        sp = _NL_OR_NUL.search(buf, sp).start()
    if buf.startswith(MSG_END, sp):
        sp += len(MSG_END)
        return fields.done(), sp + 1 if sp < smax and buf[sp] == 0 else sp  # heartbeat sends the NUL too
    return fields.done(), min(sp + 1, smax)  # the NUL


def _classic_field(rawname: bytes, rawvalue: bytes, offset: int, depth: int = 0) -> Field:
    if rawname.startswith(MSG_START[:3]):
        raise WireDecodeError("illegal field name starting with >>>", offset)
    ftype = FT_STRING
    if rawname[:1] == b"(":
        if len(rawname) < 3 or rawname[2:3] != b")":
            raise WireDecodeError("classic type prefix without closing parenthesis", offset)
        ftype = rawname[1] - 0x30
        if ftype == FT_STRING or not FT_BINARY <= ftype <= FT_COMPRESS:
            raise WireDecodeError(f"classic field type {rawname[:3]!r} is not accepted", offset)
        rawname = rawname[3:]
        if not rawname:
            raise WireDecodeError("classic field with an empty name", offset)
    name = rawname.decode("utf-8", "surrogateescape")
    if ftype == FT_STRING:
        return Field(name, FT_STRING, _sym_to_nl(rawvalue))
    if ftype in (FT_BINARY, FT_COMPRESS):
        # glue does not check base64_to_binary's error (the field gets a length of -1); refuse instead
        if len(rawvalue) % 4:
            raise WireDecodeError(f"field {name!r}: base64 length is not a multiple of 4", offset)
        try:
            value = binascii.a2b_base64(rawvalue) if _B64.fullmatch(rawvalue) else None
        except binascii.Error:
            value = None
        if value is None:
            raise WireDecodeError(f"field {name!r}: invalid base64", offset)
        return Field(name, ftype, value)
    if ftype == FT_LIST:
        _check_list(name, rawvalue, offset)
    else:  # a nested classic message; its newlines travel as SPECIAL_SYMS[depth]
        nested = rawvalue.replace(bytes([SPECIAL_SYMS[depth]]), b"\n")
        if nested[:4] != MSG_START:
            raise WireDecodeError(f"struct field {name!r} does not hold a classic message", offset)
        try:
            _classic_fields(nested, depth + 1)
        except WireDecodeError as err:
            raise WireDecodeError(f"struct field {name!r}: {err.reason}", offset) from None
    return Field(name, ftype, rawvalue)  # kept in its wire form


class _Fields(list):
    """A message's fields in order, with glue's ``add_list_field``: a list field joins the first earlier
    field of its name, and fails when that one has another type. Other types are simply appended.

    In linear time: names are indexed and a list's parts joined once at the end (the first port scanned
    every field and copied the list for each part: a 3.8 KB zlib packet decompressing to many list fields
    took 69 s).
    """

    def __init__(self) -> None:
        super().__init__()
        self.first: Dict[str, int] = {}
        self.parts: Dict[int, List[bytes]] = {}

    def add(self, f: Field, offset: int) -> None:
        at = self.first.get(f.name)
        if f.type == FT_LIST and at is not None:
            if self[at].type != FT_LIST:
                raise WireDecodeError(f"list field {f.name!r} repeats a field of another type", offset)
            self.parts[at].append(f.value)
            return
        if at is None:
            self.first[f.name] = len(self)
            if f.type == FT_LIST:
                self.parts[len(self)] = [f.value]
        self.append(f)

    def done(self) -> List[Field]:
        for at, parts in self.parts.items():
            if len(parts) > 1:
                self[at] = Field(self[at].name, FT_LIST, b"".join(parts))
        return list(self)


_B64 = re.compile(rb"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_LIST_HEAD = re.compile(rb"[ \t\n\v\f\r]*([+-]?[0-9]+)")


def _check_list(name: str, value: bytes, offset: int, packet: bytes = b"", after: int = 0) -> None:
    """glue's ``string_list_unpack`` fails only when the first element has no positive length
    followed (before a NUL) by a ``:``; later elements are read leniently. For a netstring
    field glue scans the packet buffer itself, so that ``:`` may lie past the value, in
    ``packet`` from ``after`` on (searched in place: no copy of the packet's rest per field)."""
    m = _LIST_HEAD.match(value)
    if m is None or c_int(m.group(1)) <= 0:
        raise WireDecodeError(f"list field {name!r} is not a packed string list", offset)
    colon, nul = value.find(b":", m.end()), value.find(b"\0", m.end())
    if colon >= 0:
        ok = nul < 0 or colon < nul
    elif nul >= 0:
        ok = False
    else:
        colon = packet.find(b":", after)
        ok = colon >= 0 and packet.find(b"\0", after, colon) < 0
    if not ok:
        raise WireDecodeError(f"list field {name!r} is not a packed string list", offset)


def _netstring_fields(data: bytes, depth: int) -> Tuple[List[Field], int]:
    """A port of glue's ``netstring2msg_rec`` (stricter in one place: the length must be
    decimal digits followed directly by ``:``; glue's ``cl_parse_int`` is looser)."""
    if depth >= MAXDEPTH:
        raise WireDecodeError("struct fields nested too deeply")
    smax = len(data)
    sp = 4
    fields = _Fields()
    while True:
        if sp >= smax:
            raise WireDecodeError("netstring message without the %%% end marker", sp)
        if data.startswith(NS_END, sp):
            return fields.done(), sp + len(NS_END)
        m = _NS_FIELD.match(data, sp)
        if m is not None:  # the common case in one regex; anything odd takes the careful path
            end = m.end(1) + 1 + int(m.group(1))
            ftype = m.group(2)[0] - 0x30
            if m.end() <= end < smax and data[end] == 0x2C and ftype in (FT_STRING, FT_BINARY):
                value = data[m.end():end]
                if ftype == FT_STRING and SPECIAL_SYM in value:
                    value = _sym_to_nl(value)
                fields.add(Field(m.group(3).decode("utf-8", "surrogateescape"), ftype, value), sp)
                sp = end + 1
                continue
        start, end = _peel(data, sp, "field")
        fields.add(_netstring_field(data, start, end, depth), start)
        sp = end + 1


def _peel(data: bytes, sp: int, what: str) -> Tuple[int, int]:
    """``<len>:<data>,`` at ``sp``: the (start, end) of the data; end is the index of the comma."""
    m = _DIGITS.match(data, sp, sp + 10)
    if m is None:
        raise WireDecodeError(f"netstring {what}: no length", sp)
    colon = m.end()
    if data[colon:colon + 1] != b":":
        raise WireDecodeError(f"netstring {what}: no ':' after the length", colon)
    start = colon + 1
    end = start + int(m.group())
    if end >= len(data):
        raise WireDecodeError(f"netstring {what}: length runs past the end", sp)
    if data[end] != 0x2C:
        raise WireDecodeError(f"netstring {what}: no ',' after {end - start} bytes", end)
    return start, end


def _netstring_field(data: bytes, start: int, end: int, depth: int) -> Field:
    if end - start < 4 or data[start] != 0x28 or data[start + 2] != 0x29:
        raise WireDecodeError("netstring field does not start with (<type>)", start)
    ftype = data[start + 1] - 0x30
    if not 0 <= ftype < len(TYPE_NAMES):
        raise WireDecodeError(f"netstring field type {data[start:start + 3]!r} is unknown", start)
    eq = data.find(b"=", start + 3, end)
    nul = data.find(b"\0", start + 3, eq)
    if eq <= start + 3 or nul >= 0:
        raise WireDecodeError("netstring field without a name and '='", start)
    rawname = data[start + 3:eq]
    if rawname.startswith(MSG_START[:3]):
        raise WireDecodeError("illegal field name starting with >>>", start)
    value = data[eq + 1:end]
    if ftype == FT_STRING:
        if rawname[:1] == b"(":  # glue's add_string_field reads a type prefix in a string field's name
            return _classic_field(rawname, value, start)
        return Field(rawname.decode("utf-8", "surrogateescape"), ftype, _sym_to_nl(value))
    if ftype == FT_LIST:
        _check_list(rawname.decode("utf-8", "surrogateescape"), value, start, data, end)
    elif ftype in (FT_STRUCT, FT_UNCOMPRESS):
        if value[:4] != NS_START:
            raise WireDecodeError(f"struct field {rawname!r} does not hold a netstring message", start)
        _netstring_fields(value, depth + 1)
    return Field(rawname.decode("utf-8", "surrogateescape"), ftype, value)


def _sym_to_nl(value: bytes) -> bytes:
    """glue's ``string2str`` (classic and netstring alike): 0x13 becomes a newline, up to the first NUL."""
    nul = value.find(b"\0")
    if nul < 0:
        return value.replace(SPECIAL_SYM, b"\n")
    return value[:nul].replace(SPECIAL_SYM, b"\n") + value[nul:]


def _trailer(data: bytes, sp: int) -> Tuple[AuthToken, int]:
    covered = data[:sp]
    try:
        start, end = _peel(data, sp, "auth trailer")
    except WireDecodeError as err:
        raw = data[sp:sp + 64]
        return AuthToken(TRAILER, raw, None, None, covered, err.reason), len(data)
    raw = data[start:end]
    scanned = scan_auth(raw)
    if scanned is None:
        return AuthToken(TRAILER, raw, None, None, covered, "auth trailer is not '<index> <hex>'"), end + 1
    return AuthToken(TRAILER, raw, scanned[0], scanned[1], covered), end + 1


def _field_auth(message: Message) -> Optional[AuthToken]:
    auths = [f for f in message.fields if f.name == AUTH_FIELD]
    if not auths:
        return None
    raw = auths[-1].value
    covered = classic_body(message)
    scanned = scan_auth(raw)
    if scanned is None:
        return AuthToken(FIELD, raw, None, None, covered, "auth field is not '<index> <hex>'")
    problem = None if covered is not None else "the signed text cannot be reproduced (struct/list fields)"
    return AuthToken(FIELD, raw, scanned[0], scanned[1], covered, problem)


def _decompress(algorithm: str, payload: bytes, depth: int) -> Tuple[Optional[Decoded], Optional[str]]:
    if len(payload) > MAXMSG:
        return None, f"compressed payload of {len(payload)} bytes is over MAXMSG"
    try:
        if algorithm == "zlib":
            d = zlib.decompressobj()
            raw = d.decompress(payload, MAXUNCOMPRESSED)
            if d.unconsumed_tail:
                return None, "decompresses to more than MAXUNCOMPRESSED (2 MiB)"
            if not d.eof:
                return None, "truncated zlib stream"
        elif algorithm == "bz2":
            try:
                import bz2
            except ImportError:  # pragma: no cover - Python built without bz2
                return None, "bz2 is not available in this Python"
            b = bz2.BZ2Decompressor()
            raw = b.decompress(payload, MAXUNCOMPRESSED)
            if not b.eof:
                return None, ("decompresses to more than MAXUNCOMPRESSED (2 MiB)" if not b.needs_input
                              else "truncated bz2 stream")
        else:
            return None, f"unknown compression algorithm {algorithm[:40]!r}"
    except (zlib.error, OSError, EOFError, ValueError) as err:
        return None, f"{algorithm} decompression failed: {err}"
    try:
        return _decode(raw, depth + 1), None
    except WireDecodeError as err:
        return None, f"decompressed message: {err}"


# --------------------------------------------------------------------------------------------
# encoding

def classic_body(message: Message, skip_auth: bool = True) -> Optional[bytes]:
    """The classic field lines (``msg2string_buf`` NOHEAD: no ``>>>``/``<<<``, no ``auth``
    fields): exactly the bytes the classic ``auth`` field authenticates. None when a field
    cannot be written that way (struct, list, uncompress types, or a NUL in a string)."""
    parts: List[bytes] = []
    for f in message.fields:
        if skip_auth and f.name == AUTH_FIELD:
            continue
        name = f.name.encode("utf-8", "surrogateescape")
        if f.type == FT_STRING:
            if b"\0" in f.value:
                return None
            parts.append(b"%s=%s\n" % (name, f.value.replace(b"\n", SPECIAL_SYM)))
        elif f.type in (FT_BINARY, FT_COMPRESS):
            parts.append(b"(%d)%s=%s\n" % (f.type, name, binascii.b2a_base64(f.value, newline=False)))
        else:
            return None
    return b"".join(parts)


def netstring_body(message: Message) -> bytes:
    """``###\\n`` + one netstring per field + ``%%%\\n``: exactly what the trailer authenticates."""
    parts = [NS_START]
    for f in message.fields:
        name = f.name.encode("utf-8", "surrogateescape")
        parts.append(b"%d:(%d)%s=%s," % (4 + len(name) + len(f.value), f.type, name, f.value))
    parts.append(NS_END)
    return b"".join(parts)


AuthSpec = Union["Authkeys", "AuthKey", Tuple[int, str, object], None]  # noqa: F821


def _signer(auth: AuthSpec) -> Optional[Tuple[int, str, object]]:
    if auth is None:
        return None
    if isinstance(auth, tuple):
        index, method, key = auth
        return int(index), method, key
    if hasattr(auth, "keys") and hasattr(auth, "active_index"):  # an Authkeys: sign with the active entry
        active = auth.active
        if active is None:
            raise ValueError("these authkeys have no active key (heartbeat would not start)")
        return active.index, active.method, active.key
    if hasattr(auth, "method") and hasattr(auth, "index"):  # an AuthKey
        return auth.index, auth.method, auth.key
    raise TypeError("auth must be Authkeys, an AuthKey or (index, method, key)")


def _signed(message: Message, signer: Tuple[int, str, object]) -> Message:
    from hadoctor.wire.digest import compute

    index, method, key = signer
    body = classic_body(message)
    if body is None:
        raise ValueError("this message cannot be written in classic form, so it cannot carry an auth field")
    return message.copy().set(AUTH_FIELD, f"{index} {compute(method, key, body)}")


def encode_classic(message: Message, auth: AuthSpec = None) -> bytes:
    """The classic packet heartbeat sends (``>>>\\n`` ... ``<<<\\n`` and a NUL).

    ``auth``: Authkeys (signs with the active entry), an AuthKey, ``(index, method, key)``
    with the key a :class:`~hadoctor.secrets.Secret`, str or None (crc); None leaves the
    message as it is (an ``auth`` field already in it is kept).
    """
    signer = _signer(auth)
    if signer is not None:
        message = _signed(message, signer)
    body = classic_body(message, skip_auth=False)
    if body is None:
        raise ValueError("struct, list and compressed fields travel only in netstring form")
    return MSG_START + body + MSG_END + b"\0"


def encode_netstring(message: Message, auth: AuthSpec = None, *, field_auth: bool = True) -> bytes:
    """The netstring packet heartbeat 3.0.x on glue >= 1.0.10 sends.

    With ``auth``, heartbeat first adds (or replaces) the classic-style ``auth`` field
    (``field_auth=False`` skips that), then appends the ``<len>:<index> <hex>,`` trailer
    computed over ``###\\n`` ... ``%%%\\n``. Without ``auth`` the packet has no trailer.
    """
    signer = _signer(auth)
    if signer is not None and field_auth:
        message = _signed(message, signer)
    body = netstring_body(message)
    if signer is None:
        return body
    from hadoctor.wire.digest import compute

    index, method, key = signer
    trailer = b"%d %s" % (index, compute(method, key, body).encode("ascii"))
    return body + b"%d:%s," % (len(trailer), trailer)


def describe(decoded: Decoded) -> Dict[str, object]:
    """A JSON-safe summary of a decoded packet (no key material: only tokens and indexes)."""
    def token(a: Optional[AuthToken]) -> Optional[dict]:
        return None if a is None else {"index": a.index, "token": a.token, "problem": a.problem}

    return {"format": decoded.format, "fields": decoded.content.to_dict()["fields"],
            "field_auth": token(decoded.field_auth), "trailer": token(decoded.trailer),
            "compression": decoded.compression, "inner_problem": decoded.inner_problem,
            "trailing": decoded.trailing}
