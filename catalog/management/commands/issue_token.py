"""Issue an API token for a user, for scripts and CI pipelines; the value is printed once."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from catalog import token_services


class Command(BaseCommand):
    help = (
        "Issue a new API token for USERNAME and print its value, the last line of the output "
        "(only a hash is stored: it cannot be shown again). Tokens are listed and revoked on "
        "the 'API tokens' page or at /api/v1/tokens/."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--name",
            help="What the token is for (default: 'cli' and the date and time, so each run "
            "gets a fresh name).",
        )
        parser.add_argument(
            "--days",
            type=int,
            help="Lifetime in days (default: APPKEEPER_API_TOKEN_DAYS, at most "
            "APPKEEPER_API_TOKEN_MAX_DAYS).",
        )

    def handle(self, *args, username: str, name: str | None, days: int | None, **options):
        try:
            user = get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No active user named {username!r}.") from None
        name = name or f"cli {timezone.now():%Y-%m-%d %H:%M:%S}"
        try:
            # The operator at the console is not a user of the site: the event has no actor
            # and names the token's owner in its data.
            token, value = token_services.token_issue(user=user, actor=None, name=name, days=days)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stderr.write(
            f"Token “{token.name}” ({token.prefix}…) for {username}, expires "
            f"{token.expires_at:%Y-%m-%d %H:%M} UTC. It is shown once; store it now."
        )
        self.stdout.write(value)
