"""Issue a provisioning (SCIM) token for automation; the value is printed once."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from identity.scim import tokens


class Command(BaseCommand):
    help = (
        "Issue a provisioning token named NAME for the identity provider and print its value, "
        "the only line on stdout (only a hash is stored: it cannot be shown again). Tokens are "
        "listed and revoked on the Provisioning page (/settings/provisioning/)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="The identity provider that will use it, e.g. Okta.")

    def handle(self, *args, name: str, **options):
        try:
            # The operator at the console is not a user of the site: the event has no actor.
            token, value = tokens.issue(name=name, actor=None)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stderr.write(
            f"Provisioning token “{token.name}” ({token.prefix}…). It is shown once; store it now."
        )
        self.stdout.write(value)
