"""Money is integer minor units plus an ISO 4217 currency code."""

from __future__ import annotations

_SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€"}


def format_money(amount: int, currency: str = "GBP") -> str:
    """86000, "GBP" -> "£860"; 10750 -> "£107.50"; -43000 -> "−£430"."""
    currency = currency.upper()
    sign = "\u2212" if amount < 0 else ""  # a real minus sign: "−£430", the same everywhere
    whole, minor = divmod(abs(amount), 100)
    text = f"{whole:,}" if minor == 0 else f"{whole:,}.{minor:02d}"
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def split_instalments(total: int, count: int) -> list[int]:
    """Split `total` into `count` payments that add up exactly to it.

    Rule: every payment is the total divided evenly, rounded down to the penny, and the pence left
    over are added one each to the *first* payments. 43000 / 4 -> [10750] * 4;
    1000 / 3 -> [334, 333, 333].
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    base, extra = divmod(total, count)
    return [base + (1 if i < extra else 0) for i in range(count)]
