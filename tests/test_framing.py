"""The framing protocol of node scripts (hadoctor/framing.py): the real sh side through /bin/sh and od, and
the parser against hostile output (cut short, garbled, huge, noise around it)."""

from __future__ import annotations

import os
import subprocess
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from hadoctor.framing import CORRUPT, MISSING, SH, TOO_BIG, TRUNCATED, UNREADABLE, parse_output
from hadoctor.remote import SCRIPT_HEADER, quote


def _sh(body: str) -> bytes:
    done = subprocess.run(["/bin/sh", "-s"], input=(SCRIPT_HEADER + SH + body).encode(), capture_output=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _od_like(data: bytes) -> bytes:
    """What ``od -An -v -tx1`` prints for ``data`` (16 bytes a line, each with a leading blank)."""
    return b"".join(b"".join(b" %02x" % b for b in data[i:i + 16]) + b"\n" for i in range(0, len(data), 16))


def test_a_file_a_command_and_values_round_trip_through_sh(tmp_path):
    content = bytes(range(256)) + b"\n@end 0\n@file x\nkey=value\r\n"  # every byte, and lines that look like frames
    (tmp_path / "f").write_bytes(content)
    out = _sh(f"say who node01\nsay who node02\ndump f {quote(str(tmp_path / 'f'))}\n"
              f"dumpcmd cmd sh -c 'printf \"a\\\\nb\"; exit 3'\ndumpcmd quiet true\n"
              f"dump gone {quote(str(tmp_path / 'gone'))}\ndump dir {quote(str(tmp_path))}\nsay result ok\n")
    parsed = parse_output(out)
    assert parsed.files["f"] == content and parsed.status["f"] == "0"
    assert parsed.files["cmd"] == b"a\nb" and parsed.status["cmd"] == "3"
    assert parsed.files["quiet"] == b"" and parsed.status["quiet"] == "0"
    assert "gone" not in parsed.files and parsed.status["gone"] == MISSING
    assert "dir" not in parsed.files and parsed.status["dir"] == UNREADABLE
    assert parsed.all("who") == ["node01", "node02"] and parsed.ok and not parsed.problems


def test_a_command_keeping_the_pipes_open_in_the_background_does_not_hang_the_frame():
    started = time.monotonic()
    parsed = parse_output(_sh("dumpcmd bg sh -c 'sleep 5 >/dev/null 2>&1 & echo hi'\n"))
    assert parsed.files["bg"] == b"hi\n" and time.monotonic() - started < 4


def test_output_cut_short_inside_a_frame_keeps_what_came_before():
    whole = b"a=1\n@file one\n 61\n@end 0\n@file two\n 62 63\n 64"
    for cut in range(len(whole) + 1):
        parsed = parse_output(whole[:cut])
        if cut > whole.index(b"@file two") + len(b"@file two"):
            assert parsed.status["two"] == TRUNCATED and "two" not in parsed.files
            assert parsed.problems == ["frame two: the output ended inside it (truncated); not kept"]
        if cut >= whole.index(b"@end 0") + 7:
            assert parsed.files["one"] == b"a"
        assert parsed.get("a") == ("1" if cut >= 4 else None)  # "a=" cut from "a=1" is no value


def test_a_frame_without_its_end_before_the_next_frame_is_truncated():
    parsed = parse_output(b"@file a\n 61\n@file b\n 62\n@end 0\n")
    assert parsed.status == {"a": TRUNCATED, "b": "0"} and parsed.files == {"b": b"b"}


def test_garbage_inside_a_frame_drops_the_frame_not_the_rest():
    for junk in (b" 6g", b"hello", b" 61 \xff", b"@endx", b" 6"):
        parsed = parse_output(b"@file a\n 61\n" + junk + b"\n 62\n@end 0\nresult=ok\n")
        assert "a" not in parsed.files and parsed.status["a"] in (CORRUPT, TRUNCATED), junk
        assert parsed.ok and len(parsed.problems) == 1, (junk, parsed.problems)


def test_noise_around_the_frames_is_ignored():
    parsed = parse_output(b"Welcome to node01!\n\x1b[31mLast login\n=x\nBad-Key=1\nk\xff=2\n" + b"=" * 5000
                          + b"\nresult=ok\n@end 7\n")
    assert parsed.values == {"result": ["ok"]} and not parsed.files and not parsed.problems


def test_a_frame_over_the_limit_is_dropped():
    parsed = parse_output(b"@file big\n" + _od_like(b"x" * 100) + b"@end 0\n@file small\n 61\n@end 0\n",
                          max_frame=64)
    assert parsed.status["big"] == TOO_BIG and "big" not in parsed.files and parsed.files["small"] == b"a"


def test_huge_output_is_read_in_linear_time():
    took = []
    for n in (100_000, 400_000):
        data = b"@file f\n" + b" 61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70\n" * n + b"@end 0\n" + b"k=v\n" * n
        start = time.perf_counter()
        parsed = parse_output(data)
        took.append(time.perf_counter() - start)
        assert len(parsed.files["f"]) == 16 * n and len(parsed.all("k")) == n
    assert took[1] < 8 * took[0] + 0.5, took


def test_a_long_line_without_newlines_is_no_problem():
    parsed = parse_output(b"@file f\n" + b" 61" * 2_000_000 + b"\n@end 0\n" + b"x" * (4 << 20) + b"\nk=" + b"v" * 10)
    assert parsed.files["f"] == b"a" * 2_000_000 and not parsed.values
    assert parsed.problems == ["the last line has no newline (the output was cut); not read"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_random_output_never_raises(data):
    parsed = parse_output(data)
    assert set(parsed.files) <= set(parsed.status)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text("abc._-", min_size=1, max_size=8), st.binary(max_size=300), max_size=4))
def test_any_bytes_round_trip(frames):
    data = b"".join(b"@file " + name.encode() + b"\n" + _od_like(body) + b"@end 0\n" for name, body in frames.items())
    assert parse_output(data).files == frames


def test_the_sh_side_is_posix(tmp_path):
    """dash and busybox sh (old nodes) run the same functions to the same frames."""
    (tmp_path / "f").write_bytes(b"\0\n")
    script = SCRIPT_HEADER + SH + f"dump f {quote(str(tmp_path / 'f'))}\ndumpcmd c sh -c 'exit 2'\n"
    shells = [s for s in ("/bin/dash", "/bin/busybox") if os.path.exists(s)]
    assert shells, "neither dash nor busybox here: the check below would check nothing"
    for shell in shells:
        argv = [shell, "sh", "-s"] if shell.endswith("busybox") else [shell, "-s"]
        done = subprocess.run(argv, input=script.encode(), capture_output=True, timeout=30, check=False)
        parsed = parse_output(done.stdout)
        assert parsed.files["f"] == b"\0\n" and parsed.status["c"] == "2", (shell, done.stdout, done.stderr)
