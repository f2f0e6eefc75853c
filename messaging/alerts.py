"""Problems of an integration that no retry can fix, kept as one open alert each for the
ops page: the same problem again bumps the alert instead of opening another, and the
first delivery that works again resolves it."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from messaging.models import IntegrationAlert


def raise_alert(code: str, target: str, message: str, team=None) -> IntegrationAlert:
    """Open the alert for (``code``, ``target``), or bump the open one."""
    now = timezone.now()
    for _ in range(2):  # a concurrent opener wins the unique index: bump theirs instead
        bumped = IntegrationAlert.objects.filter(
            code=code, target=target, resolved_at__isnull=True
        ).update(count=F("count") + 1, last_seen_at=now, message=message)
        if bumped:
            return IntegrationAlert.objects.get(code=code, target=target, resolved_at__isnull=True)
        try:
            with transaction.atomic():
                return IntegrationAlert.objects.create(
                    code=code, target=target, message=message, team=team
                )
        except IntegrityError:
            continue
    raise RuntimeError("could not open or bump the alert")  # pragma: no cover


def resolve_alerts(code: str, target: str) -> int:
    """Close the open alert for (``code``, ``target``), if any; returns how many."""
    return IntegrationAlert.objects.filter(
        code=code, target=target, resolved_at__isnull=True
    ).update(resolved_at=timezone.now())
