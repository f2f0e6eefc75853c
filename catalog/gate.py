"""The go-live gate: the checklist an app must pass before it leaves ``draft``.

The same checklist answers a refused submit (409) and is shown, ticked, on the app page
at all times, so owners see what is missing before they press the button.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from catalog import policies
from catalog.choices import Environment
from catalog.models import TransitionError
from catalog.retirement import retired_providers
from core.formats import day


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    ok: bool
    detail: str = ""
    required: bool = True

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "ok": self.ok,
            "required": self.required,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class GateResult:
    checks: list[Check]
    findings: list[policies.Finding] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def missing(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def warnings(self) -> list[policies.Finding]:
        return [f for f in self.findings if not f.blocks]

    def as_dict(self) -> dict:
        return {
            "passed": self.passed,
            "checklist": [c.as_dict() for c in self.checks],
            "findings": [f.as_dict() for f in self.findings],
        }


class GateFailed(TransitionError):
    """Submitting an app that does not pass the go-live gate; carries the checklist."""

    def __init__(self, result: GateResult):
        self.result = result
        missing = "; ".join(c.label for c in result.missing)
        super().__init__(f"The app is not ready to go live: {missing}.", code="gate_failed")


def check(app, *, now=None) -> GateResult:
    """Evaluate the go-live checklist for ``app`` (reads regions, owner, team, contracts)."""
    now = now or timezone.now()
    facts = policies.AppFacts.from_app(app)
    findings = policies.evaluate(facts)
    blocking = [f for f in findings if f.blocks]
    hours = settings.APPKEEPER_HEARTBEAT_HOURS

    checks = [
        Check(
            "owner",
            "Owner and team set",
            # No owner: team-owned, answered for by the team; a named owner must be active.
            bool(facts.team and (facts.owner_active or not facts.owner)),
            "" if facts.team else "Name an owner and a team.",
        ),
        Check(
            "sla",
            "SLA declared",
            facts.has_sla,
            "" if facts.has_sla else "Declare availability, p95 latency and support hours.",
        ),
        Check(
            "contract",
            "A valid API contract",
            facts.has_valid_contract,
            "" if facts.has_valid_contract else "Upload a contract that validates.",
        ),
        Check(
            "policies",
            "No blocking policy finding",
            not blocking,
            "; ".join(f.message for f in blocking),
        ),
    ]
    retired = retired_providers(app) if app.pk else []
    if retired:
        # Listed only when it fails, so a healthy app's checklist stays as it always was.
        names = ", ".join(f"{p.name} (retired {day(p.retired_at)})" for p in retired)
        checks.append(
            Check(
                "dependencies",
                "Calls no retired app",
                False,
                f"Calls {names}: remove or replace the dependency.",
            )
        )
    if app.environment == Environment.PRODUCTION:
        fresh = app.last_seen_at is not None and app.last_seen_at >= now - timedelta(hours=hours)
        if fresh:
            detail = ""
        elif app.last_seen_at is None:
            detail = "No heartbeat received yet: send telemetry from the running app."
        else:
            detail = f"Last heartbeat {app.last_seen_at:%Y-%m-%d %H:%M} UTC is too old."
        checks.append(Check("heartbeat", f"Telemetry heartbeat within {hours} h", fresh, detail))
    else:
        checks.append(
            Check(
                "heartbeat",
                f"Telemetry heartbeat within {hours} h",
                True,
                "Only production apps need one.",
                required=False,
            )
        )
    return GateResult(checks=checks, findings=findings)
