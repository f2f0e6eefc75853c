"""One way to write a day, a moment, an amount of money and a count on every page.

The template filters in ``core/templatetags/ui.py`` call these; exports (CSV, the API)
never do: finance reconciles their exact, unformatted values.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import dateformat, timezone
from django.utils.timesince import timesince, timeuntil

DAY_FORMAT = "j M Y"  # 30 Nov 2026: unambiguous in every locale, unlike 11/30 or 30/11
MOMENT_FORMAT = "j M Y, H:i"
CENTS = Decimal("0.01")
# Symbols only where they are unambiguous; any other code is written after the amount.
CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "JPY": "¥"}
JUST_NOW = timedelta(minutes=1)


def _local(value: date | datetime) -> date | datetime:
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def day(value: date | datetime | None) -> str:
    """``30 Nov 2026``; a date-time is read in the site's time zone first."""
    if value is None or value == "":
        return ""
    return dateformat.format(_local(value), DAY_FORMAT)


def moment(value: datetime | None) -> str:
    """``30 Nov 2026, 14:05 UTC``: a date-time always says which zone it is in."""
    if value is None or value == "":
        return ""
    local = _local(value)
    text = dateformat.format(local, MOMENT_FORMAT)
    zone = local.tzname() if isinstance(local, datetime) else None
    return f"{text} {zone}" if zone else text


def relative(value: datetime, *, now: datetime | None = None) -> str:
    """``3 hours ago``, ``in 2 days`` or ``just now``: the largest unit only, as people say it."""
    now = now or timezone.now()
    if abs(now - value) < JUST_NOW:
        return "just now"
    if value <= now:
        return f"{timesince(value, now, depth=1)} ago"
    return f"in {timeuntil(value, now, depth=1)}"


def money(amount: Decimal | int | float | str | None, currency: str) -> str:
    """``€1,234.50`` or ``1,234.50 CHF``: two decimals, rounded half up, thousands grouped.

    A value that is not a number is returned as given rather than hidden: a page must not
    turn a bad figure into a plausible one."""
    if amount is None or amount == "":
        return ""
    try:
        exact = Decimal(str(amount))
        value = exact.quantize(CENTS, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(amount)
    symbol = CURRENCY_SYMBOLS.get(currency.upper())

    def written(sign: str, body: str) -> str:
        return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {currency}"

    if exact and not value:
        # A cost per 1,000 requests is often a fraction of a cent: never write it as zero.
        return "<" + written("", "0.01") if exact > 0 else ">" + written("−", "0.01")
    sign = "−" if value < 0 else ""  # a real minus sign, not a hyphen
    return written(sign, f"{abs(value):,.2f}")


def counted(number: int, noun: str) -> str:
    """``1 app``, ``1,234 apps``; ``noun`` is ``app`` or ``singular,plural`` (``match,matches``)."""
    singular, _, plural = noun.partition(",")
    word = singular if number == 1 else (plural or f"{singular}s")
    return f"{number:,} {word}"
