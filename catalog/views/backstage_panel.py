"""What the app page shows of the Backstage entity an app was imported from: the facts
Appkeeper keeps verbatim but does not map (type, system, labels, other annotations, links,
APIs), where it was read, and whether its source still lists it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist

from catalog.models import BackstageEntity, MicroApp

# Annotations Appkeeper writes itself on export: the page shows them as fields already.
OWN_ANNOTATIONS = "appkeeper.io/"


def entity_of(app: MicroApp) -> BackstageEntity | None:
    """The app's entity from ``select_related`` (no query), or None for an app registered
    in Appkeeper."""
    try:
        return app.backstage_entity
    except ObjectDoesNotExist:
        return None


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def _safe_url(url: Any) -> str:
    """Only http(s) links become links: a ``javascript:`` URL in a catalog file must not."""
    text = str(url or "").strip()
    return text if urlsplit(text).scheme.lower() in ("http", "https") else ""


def backstage_facts(entity: BackstageEntity | None) -> dict | None:
    if entity is None:
        return None
    document = _mapping(entity.document)
    metadata, spec = _mapping(document.get("metadata")), _mapping(document.get("spec"))
    links = []
    for link in metadata.get("links") or []:
        link = _mapping(link)
        url = str(link.get("url") or "")
        links.append({"title": str(link.get("title") or url), "url": url, "href": _safe_url(url)})
    annotations = {
        str(key): str(value)
        for key, value in sorted(_mapping(metadata.get("annotations")).items())
        if not str(key).startswith(OWN_ANNOTATIONS)
    }
    grace = settings.APPKEEPER_BACKSTAGE_MISSING_GRACE_DAYS
    return {
        "entity": entity,
        "namespace": entity.namespace,
        "type": str(spec.get("type") or ""),
        "system": str(spec.get("system") or ""),
        "lifecycle": str(spec.get("lifecycle") or ""),
        "labels": {str(k): str(v) for k, v in sorted(_mapping(metadata.get("labels")).items())},
        "annotations": annotations,
        "links": links,
        "provides": _strings(spec.get("providesApis")),
        "consumes": _strings(spec.get("consumesApis")),
        "grace_days": grace,
        "retire_after": (
            entity.missing_since + timedelta(days=grace) if entity.missing_since else None
        ),
    }
