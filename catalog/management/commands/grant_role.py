"""Put a user in the platform team or finance, e.g. the first platform admin."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from catalog.choices import FINANCE_GROUP, PLATFORM_GROUP


class Command(BaseCommand):
    help = (
        f"Add USERNAME to the {PLATFORM_GROUP} or {FINANCE_GROUP} group and let them into the "
        "admin (staff status). Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", choices=[PLATFORM_GROUP, FINANCE_GROUP])

    def handle(self, *args, username: str, role: str, **options):
        try:
            user = get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No active user named {username!r}.") from None
        try:
            group = Group.objects.get(name=role)
        except Group.DoesNotExist:
            raise CommandError(f"No group {role!r}: run `manage.py migrate` first.") from None
        user.groups.add(group)
        if not user.is_staff:
            # The groups' model permissions are for the admin, which only lets staff in.
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        self.stdout.write(f"{username} is in {role}.")
