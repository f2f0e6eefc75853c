"""Microsoft Teams cards from outbox rows: POSTed as JSON to the team's Workflows webhook.

Workflows answers 202 Accepted (older connectors 200). A refused or removed webhook
(401, 403, 404, 410) or a redirect elsewhere cannot get better by retrying: the row is
given up and the team's one ``TEAMS_WEBHOOK`` alert opened or bumped, so the ops page shows
it once instead of a retry storm. 429, 5xx and network failures are retried with the
outbox's backoff. A delivery that works resolves the alert.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from catalog.models import Notification, Team
from core.outbox import WEBHOOK_TIMEOUT_SECONDS, Message, PermanentFailure
from messaging.alerts import raise_alert, resolve_alerts
from messaging.models import AlertCode
from messaging.teams.cards import workflows_payload
from messaging.teams.hosts import host_allowed

GONE_STATUSES = frozenset({401, 403, 404, 410})


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only on the webhook's own host: the signed URL is a credential,
    and a body POSTed elsewhere would leak the team's notices."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlsplit(newurl).hostname != urlsplit(req.full_url).hostname:
            return None  # urllib then raises the 3xx as an HTTPError
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_SameHostRedirects())


def refused_message(team: Team) -> str:
    return (
        f"The Teams webhook of team {team.name} was removed or refused; set a new one on "
        "the team page."
    )


def post_card(team: Team, body: bytes) -> None:
    url = team.teams_webhook_url
    parts = urlsplit(url)
    if not host_allowed(parts.hostname or "", parts.scheme):
        # Saved before the allowed hosts changed: never POST to a host no longer allowed.
        raise_alert(AlertCode.TEAMS_WEBHOOK, team.slug, refused_message(team), team=team)
        raise PermanentFailure(f"The Teams webhook host {parts.hostname} is not allowed.")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "Appkeeper-Teams/1"},
    )
    try:
        with _OPENER.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        if status == 400:
            raise PermanentFailure(
                "Teams refused the card as malformed (HTTP 400): a bug in Appkeeper's card, "
                "not in the team's settings."
            ) from None
        if status in GONE_STATUSES or 300 <= status < 400:
            raise_alert(AlertCode.TEAMS_WEBHOOK, team.slug, refused_message(team), team=team)
            raise PermanentFailure(f"The Teams webhook answered HTTP {status}.") from None
        if status == 429 or status >= 500:
            raise OSError(f"Teams answered HTTP {status}") from None
        raise PermanentFailure(f"The Teams webhook answered HTTP {status}.") from None
    if not 200 <= status < 300:
        raise OSError(f"Teams answered HTTP {status}")
    resolve_alerts(AlertCode.TEAMS_WEBHOOK, team.slug)


def teams_message(note: Notification) -> Message:
    """The outbox message for a Teams row: the team's card, or why there is none."""
    team = note.team if note.team_id else None
    if team is None:
        return Message(key=note.pk, undeliverable="A Teams card goes to a team; this row has none.")
    if not team.teams_webhook_url:
        return Message(key=note.pk, undeliverable="The team has no Teams webhook.")
    body = json.dumps(workflows_payload(note), separators=(",", ":")).encode()
    return Message(key=note.pk, call=lambda: post_card(team, body))
