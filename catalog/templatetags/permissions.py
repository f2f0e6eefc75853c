"""``{% can "renew" app as may_renew %}``: templates ask ``catalog.permissions`` instead of
working out a rule from roles themselves."""

from __future__ import annotations

from django import template

from catalog import permissions

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context, action: str, app) -> bool:
    """May the signed-in user do ``action`` (a key of ``permissions.APP_ACTIONS``) on
    ``app``? An unknown action name fails loudly rather than hiding a button."""
    request = context.get("request")
    user = request.user if request is not None else context.get("user")
    return permissions.allows(action, user, app)
