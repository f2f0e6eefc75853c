"""Extension points that let later apps add to earlier apps' pages without being imported.

Dependencies run one way (core ← catalog ← lifecycle ← scorecards ← ops), yet the app page
shows renewals and scorecards. So the later apps register panels, row actions and
navigation entries here from their ``AppConfig.ready()``, and the pages render whatever is
registered.

A panel's ``context`` callable receives ``(request, app)`` for app panels or ``(request,)``
for dashboard panels and returns the template context (or None to hide the panel). It must
run a fixed number of queries, whatever the size of the fleet. A row action's ``context``
receives ``(request, app)`` for one row of an app table and must run no query at all: it
is called once per row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model
from django.http import HttpRequest

from core.types import AnyUser

# What a panel or row action adds to its template's context; None leaves it out.
PanelContext = dict[str, Any] | None


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template: str
    # (request, app) for app panels, (request,) for dashboard panels
    context: Callable[..., PanelContext]
    order: int = 100


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    visible: Callable[[AnyUser], bool] = field(default=lambda user: True)
    order: int = 100


@dataclass(frozen=True)
class RowAction:
    key: str
    template: str
    # (request, app), with the app's own model class: core cannot name it
    context: Callable[..., PanelContext]
    order: int = 100


APP_PANELS: dict[str, Panel] = {}
APP_ROW_ACTIONS: dict[str, RowAction] = {}
DASHBOARD_PANELS: dict[str, Panel] = {}
NAV_ENTRIES: dict[str, NavEntry] = {}


def register_app_panel(panel: Panel) -> None:
    APP_PANELS[panel.key] = panel


def register_dashboard_panel(panel: Panel) -> None:
    DASHBOARD_PANELS[panel.key] = panel


def register_app_row_action(action: RowAction) -> None:
    APP_ROW_ACTIONS[action.key] = action


def register_nav(entry: NavEntry) -> None:
    NAV_ENTRIES[entry.url_name] = entry


def render_panels(registry: dict[str, Panel], *args: Any) -> list[dict[str, Any]]:
    """Evaluate each registered panel in order; a panel returning None is left out."""
    out = []
    for panel in sorted(registry.values(), key=lambda p: (p.order, p.key)):
        context = panel.context(*args)
        if context is not None:
            out.append(
                {
                    "key": panel.key,
                    "title": panel.title,
                    "template": panel.template,
                    "context": context,
                }
            )
    return out


def row_actions(request: HttpRequest | None, app: Model) -> list[tuple[str, dict[str, Any]]]:
    """The ``(template, context)`` of each registered row action that shows for ``app``."""
    out = []
    for action in sorted(APP_ROW_ACTIONS.values(), key=lambda a: (a.order, a.key)):
        context = action.context(request, app)
        if context is not None:
            out.append((action.template, context))
    return out


def nav_for(user: AnyUser) -> list[NavEntry]:
    return [e for e in sorted(NAV_ENTRIES.values(), key=lambda e: e.order) if e.visible(user)]
