"""What demo and seeded apps look like, shared by ``load_demo`` and ``seed_demo``.

Both commands vary the same attributes by an app's index, so the small demo fleet and the
10k-app benchmark fleet exercise the same mix of kinds, environments, SLAs and links.
"""

from __future__ import annotations

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
