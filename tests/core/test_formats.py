"""One format for days, moments, money and counts: the functions and their filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.template import Context, Template

from core import formats

NOW = datetime(2026, 11, 30, 14, 5, tzinfo=UTC)


def render(source: str, **context) -> str:
    return Template("{% load ui %}" + source).render(Context(context))


def test_a_day_reads_day_month_year_for_dates_and_date_times():
    assert formats.day(date(2026, 11, 30)) == "30 Nov 2026"
    assert formats.day(datetime(2027, 1, 1, 23, 59, tzinfo=UTC)) == "1 Jan 2027"
    assert formats.day(None) == ""


def test_a_day_is_read_in_the_sites_time_zone(settings):
    settings.TIME_ZONE = "Pacific/Auckland"  # already the next day there
    assert formats.day(datetime(2026, 11, 30, 14, 5, tzinfo=UTC)) == "1 Dec 2026"


def test_a_moment_names_its_time_zone():
    assert formats.moment(NOW) == "30 Nov 2026, 14:05 UTC"
    assert formats.moment(None) == ""


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(seconds=-20), "just now"),
        (timedelta(hours=-3, minutes=-40), "3\xa0hours ago"),
        (timedelta(days=-1), "1\xa0day ago"),
        (timedelta(days=2, hours=5), "in 2\xa0days"),
        (timedelta(days=-45), "1\xa0month ago"),
    ],
)
def test_relative_time_says_only_the_largest_unit(offset, expected):
    assert formats.relative(NOW + offset, now=NOW) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("1234.5049"), "EUR", "€1,234.50"),
        (Decimal("1234.505"), "EUR", "€1,234.51"),  # half up, as invoices round
        (Decimal("0"), "EUR", "€0.00"),
        (Decimal("-12.3"), "GBP", "−£12.30"),
        (Decimal("-0.00"), "EUR", "€0.00"),  # no "minus zero"
        (Decimal("0.0004"), "EUR", "<€0.01"),  # a fraction of a cent is not nothing
        (Decimal("-0.0004"), "EUR", ">−€0.01"),
        (Decimal("0.004"), "CHF", "<0.01 CHF"),
        (1234567, "USD", "$1,234,567.00"),
        ("98.7654", "CHF", "98.77 CHF"),
        (None, "EUR", ""),
        ("n/a", "EUR", "n/a"),
    ],
)
def test_money_has_two_decimals_grouped_thousands_and_the_currency(amount, currency, expected):
    assert formats.money(amount, currency) == expected


def test_counted_pluralises_and_groups_thousands():
    assert formats.counted(1, "app") == "1 app"
    assert formats.counted(0, "app") == "0 apps"
    assert formats.counted(1234, "app") == "1,234 apps"
    assert formats.counted(2, "match,matches") == "2 matches"
    assert formats.counted(1, "match,matches") == "1 match"


def test_the_filters_render_one_format(settings):
    settings.APPKEEPER_CURRENCY = "EUR"
    html = render(
        "{{ d|day }}|{{ m|moment }}|{{ c|money }}|{{ c|money:'CHF' }}|{{ n|counted:'app' }}",
        d=date(2026, 11, 30),
        m=NOW,
        c=Decimal("9876.5"),
        n=3,
    )
    assert html == (
        '30 Nov 2026|<time datetime="2026-11-30T14:05:00+00:00">30 Nov 2026, 14:05 UTC</time>'
        "|€9,876.50|9,876.50 CHF|3 apps"
    )


def test_the_relative_moment_keeps_the_exact_one_as_its_tooltip():
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        html = render("{{ m|moment:'ago' }}", m=NOW)
    assert html == (
        '<time datetime="2026-11-30T14:05:00+00:00" title="30 Nov 2026, 14:05 UTC">'
        "3\xa0hours ago</time>"
    )
    assert render("{{ m|moment }}", m=None) == ""


@pytest.mark.parametrize(("n", "phrase"), [(1, "1 app matches"), (3, "3 apps match")])
def test_count_phrases_agree_with_their_number(n, phrase):
    assert render('{{ n|counted:"app" }} match{{ n|pluralize:"es," }}', n=n) == phrase


def test_the_plain_text_moment_fits_in_an_attribute():
    html = render("<b title=\"{{ m|moment:'text' }}\">", m=NOW)
    assert html == '<b title="30 Nov 2026, 14:05 UTC">'
