"""What demo and seeded apps look like (shared by ``load_demo`` and ``seed_demo``), and the
demo's contract documents and already-delivered notices.

Both commands vary the same attributes by an app's index, so the small demo fleet and the
10k-app benchmark fleet exercise the same mix of kinds, environments, SLAs and links.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

KINDS = ["widget", "integration", "ui", "service", "automation"]
RUNTIMES = ["aws-lambda", "k8s", "cloudflare-worker", "zapier", "retool", "n8n"]


def app_profile(index: int, *, slug: str, team_slug: str, handles_pii: bool) -> dict:
    """Model fields of the ``index``-th app: every third has no SLA, every second docs."""
    has_sla = index % 3 != 2
    return {
        "kind": KINDS[index % len(KINDS)],
        "runtime": RUNTIMES[index % len(RUNTIMES)],
        "environment": ["production", "staging", "sandbox"][index % 3],
        "criticality": ["standard", "prototype", "standard", "critical"][index % 4],
        "data_residency": "EU" if handles_pii else "",
        "sla_availability": Decimal("99.5") if has_sla else None,
        "sla_p95_ms": 300 if has_sla else None,
        "sla_support_hours": "business" if has_sla else "",
        "docs_url": f"https://docs.example.com/{slug}" if index % 2 == 0 else "",
        "runbook_url": f"https://runbooks.example.com/{slug}" if index % 3 == 0 else "",
        "repository_url": f"https://git.example.com/{team_slug}/{slug}",
    }


def delivered(notes: list, at, *, unread: bool) -> list:
    """Outbox rows already delivered at ``at`` (so the drainer sends no old news)."""
    for note in notes:
        note.created_at = note.sent_at = at
        note.attempts = 1
        note.read_at = None if unread else at + timedelta(hours=3)
    return notes


def demo_spec(app) -> dict:
    """A minimal valid OpenAPI 3.1 document for a demo app."""
    item = {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "string"}, "status": {"type": "string"}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{app.name} API", "version": "1.0.0"},
        "paths": {
            f"/{app.slug}/items": {
                "get": {
                    "operationId": "listItems",
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "maximum": 100},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The items",
                            "content": {
                                "application/json": {"schema": {"type": "array", "items": item}}
                            },
                        }
                    },
                }
            }
        },
    }
