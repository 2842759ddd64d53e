"""Currency helpers: minor units (what Stripe stores) <-> major units (what people read).

Stripe amounts are integers in the currency's smallest unit. Most currencies have two decimals,
Stripe's zero-decimal currencies have none (500 JPY is `500`) and a few have three (1.234 KWD is
`1234`). JSON values for the CRM are numbers in major units: an `int` when the currency has no
decimals, else a `float` rounded to the currency's decimals (1234 USD cents -> 12.34).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# Stripe's lists (docs: "Zero-decimal currencies", "Three-decimal currencies").
ZERO_DECIMAL: frozenset[str] = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
THREE_DECIMAL: frozenset[str] = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

_SYMBOLS: dict[str, str] = {
    "usd": "$",
    "eur": "€",
    "gbp": "£",
    "jpy": "¥",
    "inr": "₹",
    "krw": "₩",
}


def _code(currency: str) -> str:
    code = currency.strip().lower()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValueError(f"not an ISO 4217 currency code: {currency!r}")
    return code


def exponent(currency: str) -> int:
    """Number of decimals of `currency` as Stripe counts them (case-insensitive)."""
    code = _code(currency)
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def to_major(amount_minor: int, currency: str) -> Decimal:
    """1234, "usd" -> Decimal("12.34"); 500, "jpy" -> Decimal("500")."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise TypeError("amount_minor must be an int")
    return Decimal(amount_minor).scaleb(-exponent(currency))


def to_minor(amount: Decimal | str | float, currency: str) -> int:
    """Decimal("12.34"), "usd" -> 1234. Refuses precision below the currency's minor unit."""
    if isinstance(amount, bool):
        raise TypeError("amount must be a number")
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {amount!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than {exponent(currency)} decimals for {currency.upper()}")
    return int(scaled)


def major_json(amount_minor: int, currency: str) -> int | float:
    """The JSON number for an amount: int for zero-decimal currencies, else a rounded float."""
    major = to_major(amount_minor, currency)
    exp = exponent(currency)
    if exp == 0:
        return int(major)
    return round(float(major), exp)


def format_amount(amount_minor: int, currency: str) -> str:
    """A short display string: "$12.34", "¥500", "KWD 1.234", "-€1,000.00"."""
    major = to_major(amount_minor, currency)
    code = _code(currency)
    number = f"{abs(major):,.{exponent(currency)}f}"
    sign = "-" if major < 0 else ""
    symbol = _SYMBOLS.get(code)
    if symbol is not None:
        return f"{sign}{symbol}{number}"
    return f"{sign}{code.upper()} {number}"
