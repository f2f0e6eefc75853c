"""Template helpers of the registry's pages: state and risk badges, expiry countdowns."""

from __future__ import annotations

from django import template

from catalog.choices import AppState, Risk
from core.dates import days_until

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


@register.filter
def audited(value) -> str:
    """A before or after value of the History: lists as "a, b", dependency details as
    "tickets (^1; GET /tickets)", anything empty as "—"."""
    if not value:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key} ({_audited_detail(detail)})" for key, detail in value.items())
    return str(value)


def _audited_detail(detail) -> str:
    if not isinstance(detail, dict):
        return str(detail)
    parts = [str(detail["version_range"])] if detail.get("version_range") else []
    if detail.get("uses"):
        parts.append(", ".join(str(use) for use in detail["uses"]))
    return "; ".join(parts) or "—"


@register.filter
def owner_name(app, form: str = "full") -> str:
    """Who owns ``app`` as a page names them: the owner's full name (``"username"``: their
    username), or "Team-owned (<team>)" for an app without a personal owner, so no page
    has to know an owner may be missing. ``app.owner`` and ``app.team`` must be loaded."""
    owner = app.owner if app.owner_id else None
    if owner is None:
        return f"Team-owned ({app.team.name})"
    if form == "username":
        return owner.get_username()
    return owner.get_full_name() or owner.get_username()
