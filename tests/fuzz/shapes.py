"""Long adversarial inputs for the linearity tests: runs of blanks, digits and repeated tokens.

A backtracking regex is slow on a long run of what one of its repeats accepts (blanks for ``\\s*``,
digits for ``\\d+``, non-blanks for ``\\S+``) when the rest of the pattern then fails, and a search
restarts at each occurrence of its first token. So every input here is such a run, alone, after a
line prefix of the parser under test, and followed by a character that makes the match fail late.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable, Iterator, Sequence, Tuple

#: single characters whose runs the usual repeats (``\\s* \\d+ \\S+ [^]]+ .*?``) accept
CHARS = (b" ", b"\t", b"1", b"a", b"A", b"[", b"]", b"(", b")", b":", b".", b"-", b"/", b"=", b"@", b"<",
         b">", b"\\", b"\"", b"'", b",", b";", b"#", b"_", b"{", b"}", b"\xff")
#: tokens of the formats hadoctor reads (log layouts, ip a, ifconfig, configs, bundles)
TOKENS = (
    b"1 ", b"a ", b"a:", b"1.", b"a=", b"a=b ", b"[1]", b"(a)", b"a:b@", b"0x", b"ff:", b"1/", b": ", b"a\t",
    b"heartbeat: ", b"heartbeat[1]: ", b"Nov 25 07:34:40 ", b"2026/11/25_07:34:40 ", b"ERROR: ", b"info: ",
    b"IPaddr(", b"node ", b"inet ", b"inet6 ", b"mtu ", b"link/ether ", b"brd ", b"<UP,", b"1: ", b"eth0: ",
    b"10.0.0.1 ", b"1.2.3.4/24 ", b"register => ", b"secret=", b"password=", b"user:pass@", b"--dport ",
    b"udp dport ", b"-A INPUT ", b"stonith_host ", b"ucast eth0 ", b"IPaddr::", b"1 sha1 ", b"ii  ",
)
#: what ends a run so that a pattern fails as late as possible
ENDINGS = (b"", b"\x01", b" \x01")


def run(token: bytes, size: int) -> bytes:
    return (token * (size // len(token) + 1))[:size]


def shapes(size: int, prefixes: Iterable[bytes] = (), tokens: Sequence[bytes] = CHARS + TOKENS,
           endings: Sequence[bytes] = ENDINGS) -> Iterator[Tuple[str, bytes]]:
    """``(label, line)``: each token's run of ``size`` bytes, alone and after each prefix, with each ending."""
    for token in tokens:
        body = run(token, size)
        for prefix in (b"", b"x", *prefixes):
            for ending in endings:
                yield f"{prefix[:30]!r} + {token!r}*n + {ending!r}", prefix + body + ending


def slowest(func: Callable[[bytes], object], inputs: Iterable[Tuple[str, bytes]]) -> Tuple[float, str]:
    """The slowest call of ``func`` over ``inputs``: (seconds, label)."""
    worst = (0.0, "")
    for label, data in inputs:
        start = time.perf_counter()
        func(data)
        took = time.perf_counter() - start
        if took > worst[0]:
            worst = (took, label)
    return worst
