"""Template helpers of the browser UI: badges, countdowns, form fields, panels, the nav."""

from __future__ import annotations

from datetime import datetime

from django import forms, template
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from catalog.choices import AppState, Risk
from catalog.panels import nav_for

register = template.Library()

# Badge colours live in CSS (``.badge--<state>``); these are the chart fills, chosen to be
# told apart by people with the common colour-vision deficiencies and always paired with text.
STATE_COLOURS = {
    AppState.DRAFT: "#94a3b8",
    AppState.IN_REVIEW: "#6366f1",
    AppState.ACTIVE: "#16a34a",
    AppState.EXPIRED: "#dc2626",
    AppState.SUNSETTING: "#f59e0b",
    AppState.RETIRED: "#475569",
}


@register.inclusion_tag("catalog/partials/state_badge.html")
def state_badge(state: str) -> dict:
    try:
        label = AppState(state).label
    except ValueError:
        label = state
    return {"state": state, "label": label}


@register.inclusion_tag("catalog/partials/risk_badge.html")
def risk_badge(app) -> dict:
    high = getattr(app, "risk_level", None) == Risk.HIGH or app.is_high_risk
    return {"high": high, "reasons": app.risk_reasons if high else []}


@register.filter
def state_colour(state: str) -> str:
    return STATE_COLOURS.get(state, "#64748b")


@register.filter
def days_until(moment: datetime | None) -> int | None:
    """Whole days from now until ``moment`` (negative when it has passed)."""
    if moment is None:
        return None
    # Round to the nearest day: "5 days left" for 4 days 23 hours reads as people expect.
    return round((moment - timezone.now()).total_seconds() / 86400)


@register.inclusion_tag("catalog/partials/countdown.html")
def countdown(app) -> dict:
    """How long until the app expires, with an urgency level for the colour."""
    if app.expires_at is None or app.state in (AppState.RETIRED,):
        return {"days": None, "app": app}
    days = days_until(app.expires_at)
    if days < 0:
        level = "past"
    elif days <= 7:
        level = "urgent"
    elif days <= 30:
        level = "soon"
    else:
        level = "later"
    return {"days": days, "abs_days": abs(days), "level": level, "app": app}


@register.simple_tag
def nav_entries(user) -> list[dict]:
    """Navigation entries other apps registered through ``catalog.panels.register_nav``."""
    out = []
    for entry in nav_for(user):
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue  # a half-registered page should not take the whole layout down
        out.append({"label": entry.label, "url": url, "url_name": entry.url_name})
    return out


@register.simple_tag(takes_context=True)
def render_panel(context, panel: dict) -> str:
    """Render one registered panel's template with its own context plus the request's."""
    request = context.get("request")
    extra = {"app": context.get("app"), "panel": panel}
    return render_to_string(panel["template"], {**extra, **panel["context"]}, request=request)


def _field_kind(field) -> str:
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "multi"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.ClearableFileInput | forms.FileInput):
        return "file"
    return "input"


@register.inclusion_tag("catalog/partials/field.html", takes_context=True)
def form_field(context, field, validate_url: str = "") -> dict:
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
    attrs: dict[str, str] = {}
    if kind != "multi":
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    if validate_url and not field.field.disabled and kind != "file":
        # Swap only the error box (selected out of the returned field partial), so a reply
        # that arrives late never overwrites what the person is typing; related fields come
        # back out of band. A newer check of the same field replaces an older one in flight.
        attrs.update(
            {
                "hx-post": validate_url,
                "hx-trigger": "change",
                "hx-target": f"#{error_id}",
                "hx-select": f"#{error_id}",
                "hx-swap": "outerHTML",
                "hx-include": "closest form",
                "hx-vals": f'{{"_field": "{field.name}"}}',
                "hx-sync": "this:replace",
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
