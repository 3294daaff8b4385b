"""The worked example of docs/heartbeat/wire.md#worked-example, as hex dumps (xxd), and its tokens.

authkeys ``auth 1`` / ``1 sha1 secret``; ``src=node1``, uuid 0d3b7a2e-4c1f-4b8e-9a55-6f2d1c0e9b7a,
``seq=2a``, ``hg=3``, ``ts=65a0f000``, ``ld=0.00 0.01 0.05 1/123 4567``, ``ttl=3``,
``st=active``, ``dt=7530`` (30000 ms), ``protocol=1``. Bytes made with Debian's libplumb.
"""

from __future__ import annotations

import uuid

KEY = "secret"
UUID = uuid.UUID("0d3b7a2e-4c1f-4b8e-9a55-6f2d1c0e9b7a")
STATUS = dict(src="node1", seq=0x2A, hg=3, ts=0x65A0F000, st="active", dt=30000, protocol=1, srcuuid=UUID,
              ld="0.00 0.01 0.05 1/123 4567", ttl=3)

SHA1_TOKEN = "5ef81fe81d67ba413fd9da93a8427a0f2457335f"
MD5_TOKEN = "7e1d7a2fbd45a62dcb4f2231e039e0a8"
CRC_TOKEN = "8413cf73"
TRAILER_TOKEN = "29c6974a0c8f325fbf0a42380cea4a40d9a1cd86"

#: the 143 bytes the classic auth field covers
CLASSIC_SIGNED = (b"t=status\nst=active\ndt=7530\nprotocol=1\nsrc=node1\n(1)srcuuid=DTt6LkwfS46aVW8tHA6beg==\n"
                  b"seq=2a\nhg=3\nts=65a0f000\nld=0.00 0.01 0.05 1/123 4567\nttl=3\n")

CLASSIC_DUMP = """\
00000000: 3e3e 3e0a 743d 7374 6174 7573 0a73 743d  >>>.t=status.st=
00000010: 6163 7469 7665 0a64 743d 3735 3330 0a70  active.dt=7530.p
00000020: 726f 746f 636f 6c3d 310a 7372 633d 6e6f  rotocol=1.src=no
00000030: 6465 310a 2831 2973 7263 7575 6964 3d44  de1.(1)srcuuid=D
00000040: 5474 364c 6b77 6653 3436 6156 5738 7448  Tt6LkwfS46aVW8tH
00000050: 4136 6265 673d 3d0a 7365 713d 3261 0a68  A6beg==.seq=2a.h
00000060: 673d 330a 7473 3d36 3561 3066 3030 300a  g=3.ts=65a0f000.
00000070: 6c64 3d30 2e30 3020 302e 3031 2030 2e30  ld=0.00 0.01 0.0
00000080: 3520 312f 3132 3320 3435 3637 0a74 746c  5 1/123 4567.ttl
00000090: 3d33 0a61 7574 683d 3120 3565 6638 3166  =3.auth=1 5ef81f
000000a0: 6538 3164 3637 6261 3431 3366 6439 6461  e81d67ba413fd9da
000000b0: 3933 6138 3432 3761 3066 3234 3537 3333  93a8427a0f245733
000000c0: 3566 0a3c 3c3c 0a00                      5f.<<<..
"""

NETSTRING_DUMP = """\
00000000: 2323 230a 3131 3a28 3029 743d 7374 6174  ###.11:(0)t=stat
00000010: 7573 2c31 323a 2830 2973 743d 6163 7469  us,12:(0)st=acti
00000020: 7665 2c31 303a 2830 2964 743d 3735 3330  ve,10:(0)dt=7530
00000030: 2c31 333a 2830 2970 726f 746f 636f 6c3d  ,13:(0)protocol=
00000040: 312c 3132 3a28 3029 7372 633d 6e6f 6465  1,12:(0)src=node
00000050: 312c 3237 3a28 3129 7372 6375 7569 643d  1,27:(1)srcuuid=
00000060: 0d3b 7a2e 4c1f 4b8e 9a55 6f2d 1c0e 9b7a  .;z.L.K..Uo-...z
00000070: 2c39 3a28 3029 7365 713d 3261 2c37 3a28  ,9:(0)seq=2a,7:(
00000080: 3029 6867 3d33 2c31 343a 2830 2974 733d  0)hg=3,14:(0)ts=
00000090: 3635 6130 6630 3030 2c33 313a 2830 296c  65a0f000,31:(0)l
000000a0: 643d 302e 3030 2030 2e30 3120 302e 3035  d=0.00 0.01 0.05
000000b0: 2031 2f31 3233 2034 3536 372c 383a 2830   1/123 4567,8:(0
000000c0: 2974 746c 3d33 2c35 303a 2830 2961 7574  )ttl=3,50:(0)aut
000000d0: 683d 3120 3565 6638 3166 6538 3164 3637  h=1 5ef81fe81d67
000000e0: 6261 3431 3366 6439 6461 3933 6138 3432  ba413fd9da93a842
000000f0: 3761 3066 3234 3537 3333 3566 2c25 2525  7a0f2457335f,%%%
00000100: 0a34 323a 3120 3239 6336 3937 3461 3063  .42:1 29c6974a0c
00000110: 3866 3332 3566 6266 3061 3432 3338 3063  8f325fbf0a42380c
00000120: 6561 3461 3430 6439 6131 6364 3836 2c    ea4a40d9a1cd86,
"""


def from_xxd(dump: str) -> bytes:
    """Bytes of an ``xxd`` dump; checks offsets and the ASCII column against the hex."""
    out = bytearray()
    for line in dump.splitlines():
        offset, rest = line.split(": ", 1)
        assert int(offset, 16) == len(out), line
        hexpart, text = rest[:40], rest[41:]
        chunk = bytes.fromhex(hexpart.replace(" ", ""))
        assert text == "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk), line
        out += chunk
    return bytes(out)


CLASSIC = from_xxd(CLASSIC_DUMP)
NETSTRING = from_xxd(NETSTRING_DUMP)
