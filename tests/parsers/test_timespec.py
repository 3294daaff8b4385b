"""Heartbeat time values (glue cl_get_msec) and C integer reading."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hadoctor.parsers.timespec import c_atoi, c_strtol, format_ms, parse_time_ms


@pytest.mark.parametrize("token, ms", [
    ("2", 2000), ("30", 30000), ("1.5", 1500), ("0.1", 100), (".5", 500), ("1.", 1000),
    ("500ms", 500), ("250MS", 250), ("10msec", 10), ("10Msec", 10), ("2500us", 3), ("1499usec", 1),
    ("0", 0), ("0.0004", 0), ("0.0005", 1), ("  2", 2000), ("1 ms", 1), ("1.2.3", 1200), (".", 0),
])
def test_heartbeat_accepts(token, ms):
    assert parse_time_ms(token) == ms


@pytest.mark.parametrize("token", ["30s", "1m", "1h", "abc", "", "   ", "-5", "+5", "1e3", "ms", "0x10", "5 sec",
                                   "9" * 400])
def test_heartbeat_refuses(token):
    assert parse_time_ms(token) is None


@pytest.mark.parametrize("ms, text", [(2000, "2 s"), (500, "500 ms"), (1500, "1.5 s"), (0, "0 ms"),
                                      (30000, "30 s"), (1234, "1.234 s")])
def test_format_ms(ms, text):
    assert format_ms(ms) == text


@pytest.mark.parametrize("text, value, rest", [
    ("694", 694, ""), ("  -3x", -3, "x"), ("+7", 7, ""), ("abc", None, "abc"), ("", None, ""),
    ("4294967297", 1, ""), ("2147483648", -2147483648, ""), ("9" * 40, -1, ""),
])
def test_c_strtol_wraps_like_int_cast(text, value, rest):
    assert c_strtol(text) == (value, rest)


def test_c_atoi_defaults_to_zero():
    assert (c_atoi("12abc"), c_atoi("x"), c_atoi("\t5")) == (12, 0, 5)


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=10 ** 9))
def test_integer_units(n):
    assert parse_time_ms(str(n)) == n * 1000
    assert parse_time_ms(f"{n}ms") == n
    assert parse_time_ms(f"{n}usec") == (n + 500) // 1000


@settings(max_examples=300)
@given(st.text())
def test_never_raises_and_is_never_negative(text):
    result = parse_time_ms(text)
    assert result is None or (isinstance(result, int) and result >= 0)
    value, rest = c_strtol(text)
    assert value is None or -2 ** 31 <= value < 2 ** 31
    assert isinstance(rest, str)


@settings(max_examples=200)
@given(st.text(alphabet="0123456789.", min_size=1, max_size=15),
       st.sampled_from(["", "ms", "MSEC", "us", "usec", "s", "m", "sec"]))
def test_units_decide_acceptance(number, unit):
    result = parse_time_ms(number + unit)
    if unit in ("s", "m", "sec"):
        assert result is None
    else:
        assert result is not None
