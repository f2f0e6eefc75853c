"""Template helpers every page uses: the navigation, registered panels and row actions,
labelled form fields, and the one format for days, moments, money and counts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import forms, template
from django.conf import settings
from django.db.models import Model
from django.forms import BoundField
from django.template import Context
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from core import formats
from core.panels import nav_for, row_actions
from core.types import AnyUser

register = template.Library()


@register.simple_tag
def nav_entries(user: AnyUser) -> list[dict[str, str]]:
    """Navigation entries the apps registered through ``core.panels.register_nav``."""
    out = []
    for entry in nav_for(user):
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue  # a half-registered page should not take the whole layout down
        out.append({"label": entry.label, "url": url, "url_name": entry.url_name})
    return out


@register.simple_tag(takes_context=True)
def render_panel(context: Context, panel: dict[str, Any]) -> str:
    """Render one registered panel's template with its own context plus the request's."""
    request = context.get("request")
    extra = {"app": context.get("app"), "panel": panel}
    return render_to_string(panel["template"], {**extra, **panel["context"]}, request=request)


@register.simple_tag(takes_context=True)
def app_row_actions(context: Context, app: Model) -> SafeString:
    """Render the row actions the apps registered for one app of a table."""
    request = context.get("request")
    rendered = [
        render_to_string(template_name, {"app": app, **action_context}, request=request)
        for template_name, action_context in row_actions(request, app)
    ]
    # Each piece is template output, escaped where it rendered; joining loses the mark.
    return mark_safe(" ".join(rendered))  # noqa: S308


def _field_kind(field: BoundField) -> str:
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "multi"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.ClearableFileInput | forms.FileInput):
        return "file"
    return "input"


@register.inclusion_tag("catalog/partials/field.html", takes_context=True)
def form_field(context: Context, field: BoundField, validate_url: str = "") -> dict[str, Any]:
    """One labelled field with help and errors tied to it by ``aria-describedby``.

    With ``validate_url`` the field validates itself through htmx when the user leaves it
    (``change``): the endpoint answers with the re-rendered field, of which the error box is
    swapped in; ``static/js/app.js`` then sets ``aria-invalid`` to match.
    """
    kind = _field_kind(field)
    help_id = f"{field.auto_id}_help"
    error_id = f"{field.auto_id}_errors"
    # The error box is always referenced: empty, it adds nothing for a screen reader, and
    # inline validation can fill it without touching the input the person typed into.
    described = [help_id] if field.help_text else []
    described.append(error_id)
    attrs: dict[str, str | bool] = {}
    if kind != "multi":
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    if validate_url and not field.field.disabled and kind != "file":
        # Swap only the error box (selected out of the returned field partial), so a reply
        # that arrives late never overwrites what the person is typing; related fields come
        # back out of band.
        attrs.update(
            {
                "hx-post": validate_url,
                "hx-trigger": "change",
                "hx-target": f"#{error_id}",
                "hx-select": f"#{error_id}",
                "hx-swap": "outerHTML",
                "hx-include": "closest form",
                "hx-vals": f'{{"_field": "{field.name}"}}',
                # One check at a time per form, answered in the order they were asked: a
                # check also re-renders related fields out of band, so a slow answer about
                # one field must not land after a newer answer about another and undo it.
                "hx-sync": "closest form:queue all",
            }
        )
    return {
        "field": field,
        "kind": kind,
        "widget": field.as_widget(attrs=attrs),
        "help_id": help_id,
        "error_id": error_id,
        "described": " ".join(described),
    }


# --- one format for days, moments, money and counts (core/formats.py) ----------------------


@register.filter
def day(value: date | datetime | None) -> str:
    """``{{ app.expires_at|day }}`` → 30 Nov 2026."""
    return formats.day(value)


@register.filter
def moment(value: datetime | None, style: str = "") -> str:
    """``{{ review.due_at|moment }}`` → a ``<time>`` reading 30 Nov 2026, 14:05 UTC;
    ``|moment:"ago"`` reads "3 hours ago" with the exact moment as its tooltip;
    ``|moment:"text"`` is the plain text, for attributes and sentences already in a <time>."""
    if not value:
        return ""
    exact = formats.moment(value)
    if style == "text":
        return exact
    stamp = value.isoformat()
    if style == "ago":
        return format_html(
            '<time datetime="{}" title="{}">{}</time>', stamp, exact, formats.relative(value)
        )
    return format_html('<time datetime="{}">{}</time>', stamp, exact)


@register.filter
def money(amount: Decimal | int | float | str | None, currency: str = "") -> str:
    """``{{ row.cost|money }}`` → €1,234.50 in the configured currency."""
    return formats.money(amount, currency or settings.APPKEEPER_CURRENCY)


@register.filter
def counted(number: int | None, noun: str) -> str:
    """``{{ total|counted:"app" }}`` → 1 app, 3 apps; ``"match,matches"`` for other plurals."""
    return formats.counted(number or 0, noun)


@register.filter
def number(value: int | None) -> str:
    """``{{ row.requests|number }}`` → 1,234,567: whole numbers with grouped thousands."""
    return "" if value is None or value == "" else f"{int(value):,}"
