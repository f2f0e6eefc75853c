"""Apps as code, outwards: an app and its latest contract as a Backstage ``catalog-info.yaml``.

Appkeeper's own fields travel as ``appkeeper.io/*`` annotations, so an export re-imports
(``catalog.backstage.importer``) to the same app.
"""

from __future__ import annotations

from typing import Any

import yaml

from catalog.backstage.importer import ANNOTATION, TYPE_TO_KIND
from catalog.models import MicroApp
from catalog.selectors import latest_contract

ENVIRONMENT_TO_LIFECYCLE = {"production": "production", "sandbox": "experimental"}


def _co_owner_names(app: MicroApp) -> list[str]:
    names = app.co_owner_usernames
    if names is None:
        names = sorted(person.get_username() for person in app.co_owners.all())
    return names


def _export_annotations(app: MicroApp) -> dict[str, str]:
    values = {
        "kind": app.kind,
        "environment": app.environment,
        "criticality": app.criticality,
        "runtime": app.runtime,
        "contact": app.contact,
        # Backstage has no co-owner field: spec.owner stays the team's group, and the people
        # travel as user references.
        "owner": f"user:{app.owner.get_username()}",
        "co-owners": ",".join(f"user:{name}" for name in _co_owner_names(app)),
        "handles-pii": str(app.handles_pii).lower(),
        "handles-payment-data": str(app.handles_payment_data).lower(),
        "externally-exposed": str(app.externally_exposed).lower(),
        "data-residency": app.data_residency,
        "regions": ",".join(sorted(r.code for r in app.regions.all())),
        "sla-availability": str(app.sla_availability or ""),
        "sla-p95-ms": str(app.sla_p95_ms or ""),
        "sla-support-hours": app.sla_support_hours,
    }
    return {f"{ANNOTATION}{k}": v for k, v in values.items() if v not in ("", None)}


def export_app(app: MicroApp) -> str:
    """The app (and its latest contract as an API entity) as a ``catalog-info.yaml``."""
    links = [
        {"url": url, "title": title}
        for url, title in (
            (app.docs_url, "Docs"),
            (app.runbook_url, "Runbook"),
            (app.repository_url, "Repository"),
        )
        if url
    ]
    component: dict[str, Any] = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {
            "name": app.slug,
            "title": app.name,
            "description": app.description,
            "tags": list(app.tags),
            "links": links,
            "annotations": _export_annotations(app),
        },
        "spec": {
            "type": {v: k for k, v in TYPE_TO_KIND.items()}.get(app.kind, "service"),
            "lifecycle": ENVIRONMENT_TO_LIFECYCLE.get(app.environment, "staging"),
            "owner": f"group:{app.team.slug}",
            "dependsOn": [f"component:{d.slug}" for d in app.depends_on.all()],
        },
    }
    docs = [component]
    contract = latest_contract(app=app)
    if contract is not None:
        component["spec"]["providesApis"] = [f"{app.slug}-api"]
        definition = (
            contract.sdl
            if contract.kind == "graphql"
            else yaml.safe_dump(contract.document, sort_keys=False, allow_unicode=True)
        )
        docs.append(
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "API",
                "metadata": {
                    "name": f"{app.slug}-api",
                    "title": f"{app.name} API",
                    "annotations": {f"{ANNOTATION}version": contract.version},
                },
                "spec": {
                    "type": contract.kind,
                    "lifecycle": component["spec"]["lifecycle"],
                    "owner": f"group:{app.team.slug}",
                    "definition": definition,
                },
            }
        )
    return yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True)
