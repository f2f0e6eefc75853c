"""Requests from chat services. Slack's carry no session and no token: the signature over
the raw body, made with the app's signing secret, is what authenticates them."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from slack_sdk.signature import SignatureVerifier

from messaging.models import SlackInteraction
from messaging.slack import interactions

logger = logging.getLogger(__name__)

# Slack refuses nothing older than five minutes itself; digests are kept twice as long so a
# request replayed at the edge of the window still meets its first copy.
REPLAY_MEMORY = timedelta(minutes=10)


def _refused(reason: str) -> HttpResponse:
    return HttpResponse(reason, status=401, content_type="text/plain")


def signature_valid(body: bytes, timestamp: str, signature: str) -> bool:
    """Slack's ``v0`` scheme, with the five-minute window either way (a clock ahead of ours
    is refused like a stale one)."""
    if not timestamp.isdigit() or not signature:
        return False
    return SignatureVerifier(settings.SLACK_SIGNING_SECRET).is_valid(body, timestamp, signature)


def first_sight(signature: str) -> bool:
    """Remember the signature; False when it was seen before (a replay: Slack never sends
    the same signed request twice, it signs each retry anew)."""
    now = timezone.now()
    digest = hashlib.sha256(signature.encode()).hexdigest()
    SlackInteraction.objects.filter(received_at__lt=now - REPLAY_MEMORY).delete()
    try:
        with transaction.atomic():
            SlackInteraction.objects.create(digest=digest, received_at=now)
    except IntegrityError:
        return False
    return True


@csrf_exempt
@require_POST
def slack_interactions(request):
    """Button clicks and modal submissions from the Slack app; answered within Slack's
    three seconds with an empty 200, or a ``response_action`` for a modal."""
    if not settings.SLACK_SIGNING_SECRET:
        raise Http404("Slack is not configured.")
    body = request.body
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    if not signature_valid(body, timestamp, signature):
        return _refused("The Slack signature is missing, wrong or outside the time window.")
    if not first_sight(signature):
        return _refused("This request was received before.")
    try:
        payload = json.loads(request.POST.get("payload", ""))
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        return JsonResponse(
            {"payload": ["Send the interaction as a JSON `payload` field."]}, status=400
        )
    answer = interactions.handle(payload)
    if answer is None:
        return HttpResponse(status=200)
    return JsonResponse(answer)
