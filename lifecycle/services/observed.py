"""Declaring a dependency the app was seen calling, from the comparison on its page."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from catalog import services as catalog_services
from catalog.choices import AppState
from catalog.models import MicroApp
from core.types import Actor
from lifecycle.observed import compare_app_calls, window_days


@transaction.atomic
def observed_call_declare(*, app: MicroApp, callee_slug: str, actor: Actor) -> MicroApp:
    """Add ``callee_slug`` to the app's declared dependencies, because the app was seen
    calling it in the window and does not declare it; returns the callee.

    The write is the catalog's ``app_update``, so the change is audited like any edit of
    ``depends_on``. The app row is locked first, so two clicks (or two tabs) add it once:
    the second finds it declared and is refused, with nothing written."""
    app = MicroApp.objects.select_for_update().get(pk=app.pk)
    if app.state == AppState.RETIRED:
        raise ValidationError({"depends_on": "A retired app's dependencies are frozen."})
    comparison = compare_app_calls(app=app)
    edge = next((e for e in comparison.observed if e.slug == callee_slug), None)
    if edge is None:
        raise ValidationError(
            {
                "depends_on": f"{app.slug} has not been seen calling {callee_slug} in the "
                f"last {window_days()} days."
            }
        )
    if edge.declared:
        raise ValidationError({"depends_on": f"{app.slug} already declares {callee_slug}."})
    callee = MicroApp.objects.get(pk=edge.callee_id)
    current = list(app.depends_on.all())
    catalog_services.app_update(app=app, actor=actor, data={"depends_on": [*current, callee]})
    return callee
