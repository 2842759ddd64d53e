from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.money import THREE_DECIMAL, ZERO_DECIMAL, exponent, format_amount, major_json, to_major, to_minor


@pytest.mark.parametrize(
    ("currency", "expected"),
    [
        ("usd", 2),
        ("USD", 2),
        ("eur", 2),
        ("jpy", 0),
        ("JPY", 0),
        ("krw", 0),
        ("xpf", 0),
        ("kwd", 3),
        ("BHD", 3),
        ("tnd", 3),
        ("chf", 2),
    ],
)
def test_exponent(currency: str, expected: int) -> None:
    assert exponent(currency) == expected


def test_stripe_lists_are_complete() -> None:
    assert len(ZERO_DECIMAL) == 16
    assert THREE_DECIMAL == {"bhd", "jod", "kwd", "omr", "tnd"}


@pytest.mark.parametrize("bad", ["", "us", "dollars", "12$", "€€€"])
def test_exponent_refuses_non_codes(bad: str) -> None:
    with pytest.raises(ValueError):
        exponent(bad)


def test_to_major() -> None:
    assert to_major(1234, "usd") == Decimal("12.34")
    assert to_major(500, "JPY") == Decimal(500)
    assert to_major(1234, "kwd") == Decimal("1.234")
    assert to_major(-5, "usd") == Decimal("-0.05")
    with pytest.raises(TypeError):
        to_major(12.5, "usd")  # type: ignore[arg-type]


def test_to_minor() -> None:
    assert to_minor(Decimal("12.34"), "usd") == 1234
    assert to_minor("12.3", "usd") == 1230
    assert to_minor("500", "jpy") == 500
    assert to_minor("1.234", "KWD") == 1234
    assert to_minor(12, "usd") == 1200
    assert to_minor(12.34, "usd") == 1234


@pytest.mark.parametrize(
    ("amount", "currency"), [("12.345", "usd"), ("500.5", "jpy"), ("1.2345", "kwd"), ("0.001", "eur")]
)
def test_to_minor_refuses_sub_unit_precision(amount: str, currency: str) -> None:
    with pytest.raises(ValueError, match="decimals"):
        to_minor(amount, currency)


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", ""])
def test_to_minor_refuses_non_numbers(bad: str) -> None:
    with pytest.raises(ValueError):
        to_minor(bad, "usd")


def test_major_json() -> None:
    assert major_json(1234, "usd") == 12.34
    assert isinstance(major_json(1234, "usd"), float)
    assert major_json(500, "jpy") == 500
    assert isinstance(major_json(500, "jpy"), int)
    assert major_json(1234, "kwd") == 1.234
    assert major_json(1, "usd") == 0.01


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (1234, "usd", "$12.34"),
        (500, "jpy", "¥500"),
        (1234, "kwd", "KWD 1.234"),
        (123456, "eur", "€1,234.56"),
        (-1234, "usd", "-$12.34"),
        (5, "chf", "CHF 0.05"),
        (100, "GBP", "£1.00"),
    ],
)
def test_format_amount(minor: int, currency: str, text: str) -> None:
    assert format_amount(minor, currency) == text


@given(
    minor=st.integers(min_value=-(10**12), max_value=10**12),
    currency=st.sampled_from(["usd", "jpy", "kwd", "eur", "clp", "bhd"]),
)
def test_round_trip(minor: int, currency: str) -> None:
    assert to_minor(to_major(minor, currency), currency) == minor
    assert to_minor(str(major_json(minor, currency)), currency) == minor
