"""factory_boy factories shared by every test package."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from catalog.choices import FINANCE_GROUP, PLATFORM_GROUP
from catalog.models import MicroApp, Region, Team

PASSWORD = "appkeeper-test"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


def add_to_group(user, name: str):
    group, _ = Group.objects.get_or_create(name=name)
    user.groups.add(group)
    return user


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")
    cost_center = factory.Sequence(lambda n: f"CC-{1000 + n}")
    contact_email = factory.LazyAttribute(lambda t: f"{t.slug}@example.com")


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"region-{n}")
    name = factory.LazyAttribute(lambda r: r.code.title())
    jurisdiction = "EU"


class MicroAppFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MicroApp
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"App {n}")
    slug = factory.Sequence(lambda n: f"app-{n}")
    description = "Routes support tickets to the right queue by language and product."
    kind = "integration"
    team = factory.SubFactory(TeamFactory)
    owner = factory.SubFactory(UserFactory)
    runtime = "aws-lambda"
    environment = "staging"
    criticality = "standard"
    sla_availability = Decimal("99.5")
    sla_p95_ms = 300
    sla_support_hours = "business"
    tags = factory.LazyFunction(lambda: ["demo"])

    @factory.post_generation
    def regions(self, create, extracted, **kwargs):
        if create and extracted:
            self.regions.set(extracted)


__all__ = ["FINANCE_GROUP", "PLATFORM_GROUP"]
