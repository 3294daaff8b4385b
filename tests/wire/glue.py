"""ctypes access to Debian's real cluster-glue message library (libplumb.so.2), for
differential tests: its encoder and decoder against ours. Absent library -> ``LIB is None``."""

from __future__ import annotations

import ctypes
import faulthandler
import os
import pickle
from typing import List, Optional, Tuple, Union

PATHS = ("/usr/lib/libplumb.so.2", "/usr/lib/x86_64-linux-gnu/libplumb.so.2")


class HaMsg(ctypes.Structure):  # glue include/ha_msg.h: struct ha_msg
    _fields_ = [("nfields", ctypes.c_int), ("nalloc", ctypes.c_int), ("names", ctypes.POINTER(ctypes.c_char_p)),
                ("nlens", ctypes.POINTER(ctypes.c_size_t)), ("values", ctypes.POINTER(ctypes.c_void_p)),
                ("vlens", ctypes.POINTER(ctypes.c_size_t)), ("types", ctypes.POINTER(ctypes.c_int))]


MsgP = ctypes.POINTER(HaMsg)
AUTHFUNC = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                            ctypes.c_size_t)


def _load():
    for path in PATHS:
        if os.path.exists(path):
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            lib.ha_msg_new.restype = MsgP
            lib.ha_msg_new.argtypes = [ctypes.c_int]
            lib.ha_msg_del.argtypes = [MsgP]
            lib.ha_msg_nadd_type.argtypes = [MsgP, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                                             ctypes.c_int]
            for name in ("msg2wirefmt_noac", "msg2netstring_noauth", "msg2netstring"):
                getattr(lib, name).restype = ctypes.c_void_p
                getattr(lib, name).argtypes = [MsgP, ctypes.POINTER(ctypes.c_size_t)]
            lib.wirefmt2msg.restype = MsgP
            lib.wirefmt2msg.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
            lib.cl_set_authentication_computation_method.argtypes = [AUTHFUNC]
            lib.cl_log_enable_stderr.argtypes = [ctypes.c_int]
            lib.cl_log_enable_stderr(0)
            ctypes.c_int.in_dll(lib, "cl_msg_quiet_fmterr").value = 1
            libc = ctypes.CDLL(None)
            libc.free.argtypes = [ctypes.c_void_p]
            return lib, libc
    return None, None


LIB, LIBC = _load()
Fields = List[Tuple[str, int, Optional[bytes]]]


def build(fields) -> "ctypes._Pointer":
    msg = LIB.ha_msg_new(0)
    for name, ftype, value in fields:
        raw = name.encode("utf-8", "surrogateescape")
        assert LIB.ha_msg_nadd_type(msg, raw, len(raw), value, len(value), ftype) == 1, name
    return msg


def encode(fields, how: str) -> bytes:
    """``how``: msg2wirefmt_noac (classic here), msg2netstring_noauth or msg2netstring."""
    msg = build(fields)
    try:
        length = ctypes.c_size_t()
        pointer = getattr(LIB, how)(msg, ctypes.byref(length))
        assert pointer, how
        data = ctypes.string_at(pointer, length.value)
        LIBC.free(pointer)
        return data
    finally:
        LIB.ha_msg_del(msg)


def set_authenticator(compute) -> object:
    """Install ``compute(index, data) -> (index, token)`` as glue's netstring authenticator."""
    def callback(which, data, length, out, outlen):
        index, token = compute(which, ctypes.string_at(data, length))
        raw = token.encode("ascii") + b"\0"
        ctypes.memmove(out, raw, min(len(raw), outlen))
        return index
    keep = AUTHFUNC(callback)
    LIB.cl_set_authentication_computation_method(keep)
    return keep  # the caller must keep it alive


def _fields(msg) -> Fields:
    h = msg.contents
    out = []
    for i in range(h.nfields):
        ftype = h.types[i]
        value = ctypes.string_at(h.values[i], h.vlens[i]) if ftype in (0, 1) else None
        out.append((ctypes.string_at(h.names[i], h.nlens[i]).decode("utf-8", "surrogateescape"), ftype, value))
    return out


def decode_forked(data: bytes) -> Union[None, str, Fields]:
    """glue's ``wirefmt2msg(data, len, 0)`` in a child process: its fields, None when it
    rejects the bytes, or "crash" when it aborts (its asserts) or faults."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(read_end)
            faulthandler.disable()  # an abort() in glue is an expected outcome here
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)  # glue's assert messages
            msg = LIB.wirefmt2msg(data, len(data), 0)
            os.write(write_end, pickle.dumps(_fields(msg) if msg else None))
        finally:
            os._exit(0)
    os.close(write_end)
    chunks = []
    while True:
        chunk = os.read(read_end, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if status != 0 or not chunks:
        return "crash"
    return pickle.loads(b"".join(chunks))
