"""The one sanitiser (visible/safe) and the width policy of every text output (hang, console)."""

from __future__ import annotations

import io
import random

from rich.markup import render

from hadoctor.terminal import console, escape_markup, hang, safe, visible


def test_visible_shows_every_control_character():
    assert visible("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert visible("x\ny\rz\a") == "x\\ny\\rz\\a"
    assert visible("tab\tstays") == "tab\tstays"
    assert visible("\x7f\x9b\x85") == "\\x7f\\x9b\\x85"
    assert visible("\udc9b") == "\\x9b"  # an undecodable byte kept by surrogateescape: the byte itself
    assert visible("evil\u202etxt.exe") == "evil\\u202etxt.exe"
    assert visible("plain ünïcode") == "plain ünïcode"
    for code in list(range(0x20)) + list(range(0x7f, 0xa0)) + [0x2028, 0x2029, 0xfeff]:
        if code != 9:
            assert all(0x20 <= ord(c) < 0x7f for c in visible(chr(code))), hex(code)


def test_safe_renders_back_exactly_in_any_template():
    rng = random.Random(7)
    alphabet = "\\[]a/b@#= x"
    templates = ("{}", "[b]{}[/]", "{} x", "[dim]({})[/] [b]y[/b]", "{}{}", "[b]{}[/b]{}x")
    for _ in range(20000):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        for tpl in templates:
            shown = render(tpl.replace("{}", safe(a), 1).replace("{}", safe(b))).plain
            want = tpl.replace("[b]", "").replace("[/b]", "").replace("[/]", "").replace("[dim]", "")
            assert shown == want.replace("{}", a, 1).replace("{}", b), (a, b, tpl)


def test_markup_in_data_is_shown_literally():
    for hostile in ("[/]", "[link=file:///etc/passwd]node01[/link]", "[bold red]x", "\\[b]y[/b]", "end\\"):
        out = io.StringIO()
        con = console(file=out, terminal=False)
        con.print(f"[dim]{safe(hostile)}[/] :smile:")
        assert out.getvalue() == hostile + " :smile:\n"  # no emoji either


def test_console_last_filter_and_bad_markup_never_raise():
    out = io.StringIO()
    con = console(file=out, terminal=True, width=80)
    con.print("raw \x1b]0;title\x07 and [/] unbalanced")  # a missed safe(): shown, not obeyed, no crash
    text = out.getvalue()
    assert "\x07" not in text and "\x1b]0" not in text and "raw \\x1b]0;title" in text


def _lines(terminal: bool, width: int, lead: str, body: str, indent=None):
    out = io.StringIO()
    hang(console(file=out, terminal=terminal, width=width), lead, body, indent)
    return [line for line in out.getvalue().split("\n") if line]


def test_hang_on_a_terminal_indents_continuations_under_the_body():
    body = "Allow UDP on the heartbeat port from the peer's addresses on every heartbeat interface " * 2
    lines = _lines(True, 80, "      fix: ", body)
    assert len(lines) > 2 and lines[0].startswith("      fix: Allow")
    for line in lines:
        assert len(line) <= 80 and not line.endswith(" ")
    for line in lines[1:]:
        assert line.startswith(" " * 11) and line[11] != " "  # hanging indent, under "Allow"
    assert " ".join(x.strip() for x in lines).replace("fix: ", "", 1) == body.strip()  # words never cut


def test_hang_folds_only_words_longer_than_a_line():
    path = "/var/lib/" + "x" * 150 + "/ha.cf:12"
    lines = _lines(True, 80, "      ", f"{path}  some words after it", 10)
    assert all(len(line) <= 80 for line in lines)
    assert "".join(line.strip() for line in lines).startswith(path)
    assert lines[-1].strip().endswith("some words after it")


def test_no_hard_wrap_outside_a_terminal():
    body = "word " * 100
    lines = _lines(False, 80, "  fix: ", body)
    assert lines == ["  fix: " + body.rstrip()]


def test_escape_markup_is_linear():
    import time

    for hostile in ("[" * 200_000, "\\" * 200_000, "[a" * 100_000, "\\[" * 100_000):
        started = time.perf_counter()
        escape_markup(hostile)
        visible(hostile + "\x1b" * 1000)
        assert time.perf_counter() - started < 1.0
