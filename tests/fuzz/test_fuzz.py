"""Property fuzzing of everything that reads input (hypothesis): any bytes give a model or a clear error,
never a traceback, and never cost more than PER_100KB seconds per 100 KB.

CI runs EXAMPLES cases per target (fast). A nightly-size run is by hand:
``HADOCTOR_FUZZ_EXAMPLES=1000000 python3 -m pytest -p no:cacheprovider tests/fuzz/test_fuzz.py``
(see tests/README.md for the figures of the last one).
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import time
from typing import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hadoctor.bundle import AUTHKEYS_META_SHAPE, MANIFEST_SHAPE
from hadoctor.bundle.manifest_view import authkeys_from_meta
from hadoctor.bundle.nodemask import sed_program
from hadoctor.bundle.redact import credential_forms, mask_conf, mask_text
from hadoctor.errors import InputError, UsageError
from hadoctor.jsondoc import load
from hadoctor.parsers import (asterisk, authkeys, bootservices, firewall, hacf, haresources, hblog, hosts,
                              interfaces, packages, scripts)
from hadoctor.parsers.base import MAX_DIGITS, to_int
from hadoctor.snapshot.wire_datum import from_listen_json
from hadoctor.timebounds import parse_bound
from hadoctor.wire.codec import WireDecodeError, decode
from hadoctor.wire.pcap import PcapReader, read_pcap
from tests.fuzz.shapes import CHARS, TOKENS
from tests.wire import pcapbuild

EXAMPLES = int(os.environ.get("HADOCTOR_FUZZ_EXAMPLES", "150"))
PER_100KB = 1.0
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize="HADOCTOR_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=list(HealthCheck), database=None)

# lines built from the formats' own tokens, digit strings past Python's int() limit, digits int() takes
# but C does not (①, ٣), control bytes and invalid UTF-8: what the attack on main found crashes with
_WORDS = st.sampled_from(CHARS + TOKENS + (b"9" * 5000, "①".encode(), "٣".encode(), b"\x1b[2J", b"\x00",
                                           b"\r", b"\n", b"\xc3", b"0x" + b"f" * 70, b"-1", b"1e999"))
_LINE = st.lists(st.one_of(_WORDS, st.binary(max_size=40)), max_size=40).map(b"".join)
_TEXT = st.one_of(st.binary(max_size=3000), st.lists(_LINE, max_size=30).map(b"\n".join))

PARSERS = {
    "hblog": lambda d: list(hblog.iter_records([d], "x")),
    "ha.cf": lambda d: hacf.parse_hacf(d, "ha.cf"),
    "haresources": lambda d: haresources.parse_haresources(d, "h"),
    "authkeys": lambda d: authkeys.parse_authkeys(d, "a"),
    "hosts": lambda d: hosts.parse_hosts(d, "h"),
    "firewall": lambda d: firewall.parse_firewall(d, "f"),
    "packages": lambda d: packages.parse_packages(d, "p"),
    "scripts": lambda d: scripts.parse_script_listing(d, "s"),
    "asterisk": lambda d: asterisk.parse_asterisk_conf(d, "sip.conf"),
    "boot services": lambda d: bootservices.parse_boot_services(d, "b"),
    "interfaces": lambda d: interfaces.parse_interfaces(d, "i"),
    "ip a": lambda d: interfaces.parse_ip_addr(d, "i"),
    "ip -br a": lambda d: interfaces.parse_ip_brief(d, "i"),
    "ifconfig": lambda d: interfaces.parse_ifconfig(d, "i"),
    "ip -j a": lambda d: interfaces.parse_ip_json(d, "i"),
}


#: a by-hand run names a file here to get, per target, the cases run and its slowest ones (JSON lines)
_STATS_FILE = os.environ.get("HADOCTOR_FUZZ_STATS")
_STATS: dict = {}


def _record(target: str, took: float, size: int) -> None:
    entry = _STATS.setdefault(target, {"target": target, "cases": 0, "bytes": 0, "slowest_s": 0.0,
                                       "slowest_bytes": 0, "worst_s_per_100kb_over_10kb": 0.0})
    entry["cases"] += 1
    entry["bytes"] += size
    if took > entry["slowest_s"]:
        entry["slowest_s"], entry["slowest_bytes"] = took, size
    if size >= 10_000:  # per 100 KB is meaningless for a few bytes (a 1 ms call on 10 bytes is "10 s")
        entry["worst_s_per_100kb_over_10kb"] = max(entry["worst_s_per_100kb_over_10kb"], took * 100_000 / size)
    if entry["cases"] % 5000 == 0:
        _flush_stats()


def _flush_stats() -> None:
    if _STATS_FILE:
        with open(_STATS_FILE, "a", encoding="utf-8") as out:
            for entry in _STATS.values():
                out.write(json.dumps({**entry, "pid": os.getpid(), "at": time.time()}) + "\n")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(func: Callable[[bytes], object], data: bytes, target: str = "", expected=(),
           clock: Callable[[], float] = time.process_time) -> None:
    """Call ``func(data)``; an exception of ``expected`` is an answer, any other fails the test. The call
    must not cost more than PER_100KB seconds of CPU per 100 KB (CPU, not wall time: a by-hand run at
    nice 19 on a busy machine waits for the CPU without costing more; garbage collection deferred: a
    nightly-size run once spent 1.2 s in one collection inside a call on 1.8 KB, never again on replay)."""
    gc.disable()  # a collection of the whole process's heap (hypothesis's too) is no cost of this call
    start = clock()
    try:
        func(data)
    except expected:
        pass
    finally:
        took = clock() - start
        gc.enable()
    if _STATS_FILE:
        _record(target or getattr(func, "__name__", "?"), took, len(data))
    # under 0.2 s is noise on a shared machine (a first call, a collection), whatever the size
    assert took < 0.2 or took * 100_000 / max(len(data), 1) < PER_100KB, f"{took:.3f} s for {len(data)} bytes"


def teardown_module(module) -> None:
    _flush_stats()


@FUZZ
@given(name=st.sampled_from(sorted(PARSERS)), data=_TEXT)
def test_parsers_never_raise(name, data):
    _timed(PARSERS[name], data, name)  # parsers never raise: any exception fails the test


@FUZZ
@given(data=_TEXT)
def test_log_line_parser_never_raises(data):
    for line in data.split(b"\n")[:5]:
        _timed(hblog.parse_line, line, "log line")


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                         st.sampled_from(["format", "nodes", "items", "logs", "clock", "window", "keys", "index",
                                          "line", "method", "mode", "problems", "message", "schema", "summary",
                                          "senders", "packets", "node", "address", "foreign", "auth_lines",
                                          "node01", "status", "offset_s"]), inner, max_size=5),
                     max_leaves=20)


@FUZZ
@given(doc=_JSON)
def test_our_json_files_are_checked_not_trusted(doc):
    data = json.dumps(doc).encode()
    for shape in (MANIFEST_SHAPE, AUTHKEYS_META_SHAPE):
        _timed(lambda d: load(d, "x.json", shape), data, "json shapes", InputError)
    for reader in (authkeys_from_meta, from_listen_json):
        _timed(lambda d: reader(d, "x.json"), data, "json readers", InputError)


@FUZZ
@given(data=_TEXT)
def test_no_credential_form_survives_masking(data):
    masked = []
    for mask in (mask_text, mask_conf):
        _timed(lambda d: masked.append(mask(d)[0]), data, "masking")
    for text in masked:
        assert not list(credential_forms(text)), text


@FUZZ
@given(data=_TEXT)
def test_no_credential_form_survives_the_nodes_sed(data):
    """The node's own masking (the sed program generated from the same forms, GNU sed here): a superset."""
    out = []
    _timed(lambda d: out.append(subprocess.run(["sed", "-E", "-e", sed_program()], input=d, capture_output=True,
                                               env={"LC_ALL": "C", "PATH": os.environ["PATH"]}, timeout=60)),
           data, "node sed", clock=_children_cpu)
    assert out[0].returncode == 0, out[0].stderr
    assert not list(credential_forms(out[0].stdout)), out[0].stdout


@FUZZ
@given(data=st.one_of(st.binary(max_size=2000), st.lists(_LINE, max_size=20).map(
    lambda lines: b">>>\n" + b"\n".join(lines) + b"\n<<<\n"), st.lists(_LINE, max_size=20).map(
    lambda lines: b"###\n" + b"".join(b"%d:%s," % (len(x), x) for x in lines) + b"%%%")))
def test_wire_decoder_raises_only_its_error(data):
    _timed(decode, data, "wire decoder", WireDecodeError)


@FUZZ
@given(data=st.binary(max_size=3000))
def test_pcap_reader_raises_only_input_errors(data):
    head = b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + b"\0" * 8 + b"\xff\xff\x00\x00\x01\x00\x00\x00"
    for blob in (data, head + data):
        _timed(lambda d: list(read_pcap(d)), blob, "pcap", InputError)


_FRAGMENT = st.tuples(st.sampled_from([4, 6]), st.integers(0, 3),
                      st.one_of(st.integers(0, 40).map(lambda n: n * 8), st.integers(0, 0xFFFF)),
                      st.booleans(), st.one_of(st.binary(max_size=64), st.integers(0, 9).map(lambda n: b"x" * 8 * n)))


@FUZZ
@given(fragments=st.lists(_FRAGMENT, max_size=60), cut=st.integers(0, 80))
def test_pcap_fragment_sets_never_raise(fragments, cut):
    """Random fragment sets (overlaps, duplicates, gaps, odd lengths, offsets past 64 KB), some frames cut."""
    records = []
    for i, (family, ident, offset, more, data) in enumerate(fragments):
        if family == 4:
            ip = pcapbuild.ipv4_fragment("10.250.0.1", "10.250.0.2", ident, offset & 0xFFF8, more, data)
        else:
            ip = pcapbuild.ipv6_fragment("fd00::1", "fd00::2", ident, offset & 0xFFF8, more, data)
        frame = pcapbuild.frame(101, ip)
        records.append((1.0 + i, frame[:len(frame) - cut] if i % 7 == 3 else frame))
    blob = pcapbuild.pcap(records, 101)
    reader = PcapReader(blob)
    packets: list = []
    _timed(lambda d: packets.extend(reader), blob, "pcap fragments")
    done = reader.reassembly.stats
    assert sum(p.reassembled for p in packets) <= done["reassembled"]  # (a whole one may lack a UDP header)
    assert [p.reassembled for p in reader] == [p.reassembled for p in packets]  # a second pass: the same
    assert done["reassembled"] + done["incomplete"] + done["overlapping"] + done["dropped"] + done["cut"] \
        <= reader.stats["fragments"]


@FUZZ
@given(text=st.one_of(st.text(max_size=30), st.from_regex(r"\s*[0-9]{1,30}\s*[smhdw]\s*", fullmatch=True)))
def test_time_bounds_are_usage_errors_at_worst(text):
    _timed(lambda d: parse_bound(d.decode(), "--since"), text.encode(), "--since", UsageError)


@FUZZ
@given(digits=st.text("0123456789", min_size=1, max_size=MAX_DIGITS))
def test_to_int_agrees_with_int_where_both_apply(digits):
    assert to_int(digits) == int(digits)
