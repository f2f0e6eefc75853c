"""How teams, regions and apps read and write over the API."""

from __future__ import annotations

from datetime import UTC

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from catalog import impact, permissions, policies, selectors, versions
from catalog.api.fieldsets import SparseFieldsMixin
from catalog.api.retirement_serializers import confirm_dependents_field
from catalog.api.schema import (
    StrictCharField,
    StrictModelSerializer,
    StrictSlugRelatedField,
)
from catalog.choices import (
    ReviewDecision,
    Risk,
)
from catalog.models import RESERVED_SLUGS, MicroApp, Region, Review, Team, slug_validator
from catalog.models.dependencies import MAX_USE_LENGTH, MAX_USES
from catalog.querysets import dependency_links

User = get_user_model()


class VisibleAppSlugField(StrictSlugRelatedField):
    """An app named by slug, among those the requesting user may see: another team's draft
    must be refused exactly like a slug that does not exist, or the answer reveals it."""

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        if request is None:
            return queryset.none()
        return queryset.visible_to(request.user)


class RegionSerializer(StrictModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "jurisdiction", "sovereign", "pci"]


def refuse_deactivated(people: list) -> list:
    """People named to answer for something must be able to: a deactivated account is a
    400 naming it, not a silent no-op."""
    gone = [person.get_username() for person in people if not person.is_active]
    if gone:
        raise serializers.ValidationError([f"{name} is deactivated." for name in gone])
    return people


class TeamSerializer(StrictModelSerializer):
    members = StrictSlugRelatedField(
        many=True, slug_field="username", queryset=User.objects.all(), required=False
    )
    lead = StrictSlugRelatedField(
        slug_field="username",
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        help_text="Takes over an app whose owner leaves when the app has no active co-owner. "
        "An active person; usually a member of the team. Null: no lead.",
    )

    teams_webhook_configured = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = [
            "slug",
            "name",
            "cost_center",
            "contact_email",
            "chat_channel",
            "slack_channel",
            "teams_webhook_configured",
            "members",
            "lead",
        ]
        # Written through /teams/{slug}/chat/ by the team's lead or the platform team.
        read_only_fields = ["slack_channel"]

    def get_teams_webhook_configured(self, team: Team) -> bool:
        return bool(team.teams_webhook_url)

    def validate_lead(self, lead):
        if lead is not None:
            refuse_deactivated([lead])
        return lead


class DependencyListSerializer(serializers.ListSerializer):
    """An app's dependency links, read from the list ``for_api`` prefetched or, for a
    single app just written, asked for once."""

    def get_attribute(self, app: MicroApp):
        links = getattr(app, "dependency_link_list", None)
        if links is None:
            links = list(dependency_links().filter(from_microapp=app)) if app.pk else []
        return links


class DependencySerializer(serializers.Serializer):
    """One app this app calls, the operations it calls and the versions it is built for."""

    app = VisibleAppSlugField(
        slug_field="slug", queryset=MicroApp.objects.all(), source="to_microapp"
    )
    uses = serializers.ListField(
        child=StrictCharField(max_length=MAX_USE_LENGTH, allow_blank=True),
        max_length=MAX_USES,
        required=False,
        help_text='Operations it calls: "METHOD /path" (OpenAPI) or "Type.field" (GraphQL). '
        "Empty: not declared, so every breaking change counts. Left out on an existing "
        "link: kept as it is.",
    )
    version_range = StrictCharField(
        max_length=versions.MAX_RANGE_LENGTH,
        allow_blank=True,
        required=False,
        help_text='The contract versions it is built for: "1", "1.x", "^1.2", "~1.2", '
        '">=1.0,<2", "1.4.0" or "^1 || ^2". Empty: follows the current version. Left out '
        "on an existing link: kept as it is.",
    )
    current_version = StrictCharField(
        read_only=True,
        allow_null=True,
        help_text="The provider's current contract version (null: it has no contract).",
    )
    pinned_behind = serializers.SerializerMethodField(
        help_text="The range stops below the current contract version of a provider that "
        "went or is going live."
    )

    class Meta:
        list_serializer_class = DependencyListSerializer

    def get_pinned_behind(self, link) -> bool:
        return selectors.is_pinned_behind(link)

    def validate(self, attrs: dict) -> dict:
        # A PATCH makes every field optional, the nested ones too; an entry still names
        # its app.
        if "to_microapp" not in attrs:
            raise serializers.ValidationError({"app": ["Name the app this one calls."]})
        return attrs

    def validate_uses(self, value: list[str]) -> list[str]:
        try:
            return impact.clean_uses(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def validate_version_range(self, value: str) -> str:
        try:
            return versions.clean_range(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


CO_OWNERS_HELP = (
    "People who share the owner's rights and duties (usernames, sorted); the first active "
    "one takes the app over when the owner leaves. Each must be active; the owner named "
    "here is dropped, being the owner already."
)


class PolicyFindingSerializer(serializers.Serializer):
    rule = StrictCharField()
    severity = serializers.ChoiceField(choices=policies.Severity.choices)
    field = StrictCharField(help_text="The app field to fix (or `contract`).")
    message = StrictCharField()


class MicroAppSerializer(StrictModelSerializer):
    slug = serializers.SlugField(
        max_length=80,
        validators=[
            slug_validator,
            UniqueValidator(
                queryset=MicroApp.objects.all(), message="Another app already uses this slug."
            ),
        ],
    )
    team = StrictSlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    owner = StrictSlugRelatedField(
        slug_field="username",
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        help_text="The person accountable for the app (a username); must be active. Null: "
        "team-owned, no personal owner (its co-owners, else its team lead, else its team "
        "contact get the owner's notices). Omitted on create: the requesting user.",
    )
    co_owners = StrictSlugRelatedField(
        many=True,
        slug_field="username",
        queryset=User.objects.all(),
        required=False,
        help_text=CO_OWNERS_HELP,
    )
    orphaned = serializers.SerializerMethodField(
        help_text="The owner left and nobody could take the app over: the platform team "
        "assigns a new owner."
    )
    regions = StrictSlugRelatedField(
        many=True, slug_field="code", queryset=Region.objects.all(), required=False
    )
    depends_on = VisibleAppSlugField(
        many=True,
        slug_field="slug",
        queryset=MicroApp.objects.all(),
        required=False,
        help_text="The apps it calls. Writing it keeps the details of the links that stay.",
    )
    dependencies = DependencySerializer(
        many=True,
        required=False,
        help_text="The apps it calls, with how: the same apps as `depends_on`. Sent with "
        "`depends_on`, both must name the same apps.",
    )
    tags = serializers.ListField(
        child=serializers.RegexField(
            r"^[a-z0-9][a-z0-9._-]{0,39}$",
            error_messages={"invalid": "Tags are lowercase words of up to 40 characters."},
        ),
        max_length=20,
        required=False,
    )
    risk = serializers.SerializerMethodField()
    url = serializers.HyperlinkedIdentityField(view_name="api:app-detail", lookup_field="slug")
    policy_findings = serializers.SerializerMethodField()
    backstage_ref = serializers.SerializerMethodField(
        help_text="The Backstage entity it was imported from (`component:namespace/name`, "
        "lower case), or null for an app registered in Appkeeper."
    )

    class Meta:
        model = MicroApp
        fields = [
            "slug",
            "name",
            "description",
            "kind",
            "team",
            "owner",
            "co_owners",
            "orphaned",
            "orphaned_at",
            "contact",
            "runtime",
            "environment",
            "criticality",
            "handles_pii",
            "handles_payment_data",
            "externally_exposed",
            "data_residency",
            "regions",
            "depends_on",
            "dependencies",
            "sla_availability",
            "sla_p95_ms",
            "sla_support_hours",
            "docs_url",
            "runbook_url",
            "repository_url",
            "tags",
            "state",
            "risk",
            "expires_at",
            "last_seen_at",
            "went_live_at",
            "retired_at",
            "retired_reason",
            "created_at",
            "updated_at",
            "url",
            "policy_findings",
            "deprecated",
            "backstage_ref",
        ]
        read_only_fields = [
            "orphaned_at",
            "deprecated",
            "state",
            "expires_at",
            "last_seen_at",
            "went_live_at",
            "retired_at",
            "retired_reason",
            "created_at",
            "updated_at",
        ]
        # Times are answered in UTC (`...Z`), the project's time zone: named once here
        # rather than looked up in the active time zone for each of a page's ~600 values.
        extra_kwargs = {
            name: {"default_timezone": UTC}
            for name in (
                "orphaned_at",
                "expires_at",
                "last_seen_at",
                "went_live_at",
                "retired_at",
                "created_at",
                "updated_at",
            )
        }

    @extend_schema_field(serializers.ChoiceField(choices=Risk.choices))
    def get_risk(self, app: MicroApp) -> str:
        return app.risk

    def get_backstage_ref(self, app: MicroApp) -> str | None:
        # Joined in by the app's own query (``for_api``/``for_list``): no query per row.
        try:
            return app.backstage_entity.ref
        except ObjectDoesNotExist:
            return None

    def get_orphaned(self, app: MicroApp) -> bool:
        return app.orphaned_at is not None

    def validate_owner(self, owner):
        if owner is None:
            return None
        # Named as deactivated rather than "does not exist": an orphaned app's answer,
        # sent back whole, names its old owner, who must be replaced.
        return refuse_deactivated([owner])[0]

    def validate_co_owners(self, people: list) -> list:
        return refuse_deactivated(people)

    @extend_schema_field(PolicyFindingSerializer(many=True, allow_null=True))
    def get_policy_findings(self, app: MicroApp) -> list[dict] | None:
        """Policy findings (block and warn) on a single app; null in lists, where evaluating
        every row would cost a query each (the ``/policies/`` page covers the fleet)."""
        findings = getattr(app, "policy_findings", None)  # left by a write (services)
        if findings is None:
            if isinstance(self.parent, serializers.ListSerializer):
                return None
            findings = policies.evaluate_app(app)
        return [f.as_dict() for f in findings]

    def _user(self):
        return self.context["request"].user

    def validate_slug(self, value: str) -> str:
        if self.instance is not None and value != self.instance.slug:
            raise serializers.ValidationError("The slug is the app's permanent address.")
        if self.instance is None and value in RESERVED_SLUGS:
            raise serializers.ValidationError(f"“{value}” is reserved by Appkeeper; pick another.")
        return value

    def validate_team(self, team: Team) -> Team:
        user = self._user()
        if not permissions.can_register_app(user, team):
            raise serializers.ValidationError("You can only register apps for your own teams.")
        return team

    def validate_depends_on(self, apps: list[MicroApp]) -> list[MicroApp]:
        if self.instance is not None and any(a.pk == self.instance.pk for a in apps):
            raise serializers.ValidationError("An app cannot depend on itself.")
        return apps

    def validate_dependencies(self, entries: list[dict]) -> list[dict]:
        """Each app once, never the app itself; errors keyed by the entry's index, as DRF
        reports the entries' own fields."""
        errors: dict[int, dict] = {}
        seen: set[int] = set()
        for index, entry in enumerate(entries):
            provider = entry["to_microapp"]
            if self.instance is not None and provider.pk == self.instance.pk:
                errors[index] = {"app": ["An app cannot depend on itself."]}
            elif provider.pk in seen:
                errors[index] = {"app": [f"{provider.slug} is listed twice."]}
            seen.add(provider.pk)
        if errors:
            raise serializers.ValidationError(errors)
        return entries

    def validate(self, attrs: dict) -> dict:
        current = self.instance

        def value(field):
            if field in attrs:
                return attrs[field]
            return getattr(current, field) if current is not None else None

        errors = policies.pii_residency_errors(
            handles_pii=value("handles_pii"), data_residency=value("data_residency")
        )
        if errors:
            raise serializers.ValidationError(errors)
        if "depends_on" in attrs and "dependencies" in attrs:
            # A read answer sent back whole has both, naming the same apps: fine.
            named = {entry["to_microapp"].pk for entry in attrs["dependencies"]}
            if {app.pk for app in attrs["depends_on"]} != named:
                raise serializers.ValidationError(
                    {
                        "depends_on": [
                            "depends_on and dependencies name different apps: send one of "
                            "them (dependencies says how each app is used)."
                        ]
                    }
                )
            del attrs["depends_on"]
        if current is None and "owner" not in attrs:
            attrs["owner"] = self._user()
        return attrs


class LinkedAppSlugField(StrictSlugRelatedField):
    """The provider of a prefetched dependency link, by slug (``for_api`` reads the links
    once for ``depends_on`` and ``dependencies``)."""

    def to_representation(self, link) -> str:
        return link.to_microapp.slug


class MicroAppReadSerializer(SparseFieldsMixin, MicroAppSerializer):
    """An app as `GET` answers it: every field, or with `?fields=` or `?brief=true` only
    the fields asked for."""

    # Read from the plain lists ``MicroAppQuerySet.for_api`` prefetches (``to_attr``): the
    # related managers would build a manager and a queryset per app and relation, twice
    # (prefetch and read), which was a third of a 100-row page. Declared like the writable
    # fields they mirror, so the schema describes them alike.
    regions = StrictSlugRelatedField(
        many=True, slug_field="code", queryset=Region.objects.all(), source="region_list"
    )
    depends_on = LinkedAppSlugField(
        many=True,
        slug_field="slug",
        queryset=MicroApp.objects.all(),
        source="dependency_link_list",
        help_text="The apps it calls. Writing it keeps the details of the links that stay.",
    )
    # The usernames come with the app's own query (``with_co_owner_usernames``).
    co_owners = serializers.ListField(
        child=StrictCharField(), source="co_owner_usernames", help_text=CO_OWNERS_HELP
    )

    class Meta(MicroAppSerializer.Meta):
        # ``?brief=true``: enough to name, link and triage an app.
        brief_fields = ["slug", "name", "team", "state", "url"]

    @extend_schema_field(PolicyFindingSerializer(many=True, allow_null=True))
    def get_policy_findings(self, app: MicroApp) -> list[dict] | None:
        if isinstance(self.parent, serializers.ListSerializer):
            return None
        # The regions already read; the policies would ask the related manager again.
        findings = policies.evaluate_app(app, regions=app.region_list)
        return [f.as_dict() for f in findings]


class MicroAppCreatedSerializer(MicroAppSerializer):
    """The answer to a registration: the app plus its telemetry ingestion secret, which is
    shown this once (``rotate-secret`` issues a new one)."""

    ingestion_secret = serializers.CharField(read_only=True)

    class Meta(MicroAppSerializer.Meta):
        fields = [*MicroAppSerializer.Meta.fields, "ingestion_secret"]


class RetireSerializer(serializers.Serializer):
    reason = StrictCharField(min_length=5, max_length=2000)
    confirm_dependents = confirm_dependents_field()


# --- go-live gate, policies and reviews -------------------------------------------------


class GateCheckSerializer(serializers.Serializer):
    key = StrictCharField()
    label = StrictCharField()
    ok = serializers.BooleanField()
    required = serializers.BooleanField()
    detail = StrictCharField(allow_blank=True)


class GateSerializer(serializers.Serializer):
    """The go-live checklist; also the body of a refused submit (409)."""

    passed = serializers.BooleanField()
    checklist = GateCheckSerializer(many=True)
    findings = PolicyFindingSerializer(many=True)


class GateFailedSerializer(GateSerializer):
    detail = StrictCharField()
    code = StrictCharField()


class SubmitConflictSerializer(serializers.Serializer):
    """A refused submit (409): the app is not a draft (``code`` says why, e.g.
    ``invalid_transition``), or the go-live gate failed (``code: gate_failed``, with the
    checklist and findings)."""

    detail = StrictCharField()
    code = StrictCharField()
    passed = serializers.BooleanField(required=False, help_text="Only for `gate_failed`.")
    checklist = GateCheckSerializer(many=True, required=False, help_text="Only for `gate_failed`.")
    findings = PolicyFindingSerializer(
        many=True, required=False, help_text="Only for `gate_failed`."
    )


class ReviewSerializer(StrictModelSerializer):
    app = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    app_name = StrictCharField(source="app.name", read_only=True)
    app_state = StrictCharField(source="app.state", read_only=True)
    risk_reasons = serializers.ListField(
        source="app.risk_reasons", child=StrictCharField(), read_only=True
    )
    requested_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    reviewer = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    is_overdue = serializers.BooleanField(read_only=True)
    decision = StrictCharField(
        read_only=True,
        help_text="Empty while open; then `approved`, `changes_requested` or `rejected`.",
    )
    url = serializers.HyperlinkedIdentityField(view_name="api:review-detail")

    class Meta:
        model = Review
        fields = [
            "id",
            "app",
            "app_name",
            "app_state",
            "risk_reasons",
            "requested_by",
            "requested_at",
            "due_at",
            "is_overdue",
            "escalated_at",
            "reviewer",
            "decision",
            "comment",
            "decided_at",
            "url",
        ]
        read_only_fields = fields


@extend_schema_field({"type": "string", "enum": ReviewDecision.values})
class ReviewDecisionField(serializers.ChoiceField):
    """Documented inline: a named enum would collide with the sunset ``decision`` enum."""

    def __init__(self, **kwargs):
        super().__init__(choices=ReviewDecision.choices, **kwargs)


class ReviewDecisionSerializer(serializers.Serializer):
    decision = ReviewDecisionField()
    comment = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=5000,
        help_text="Mandatory for `changes_requested` and `rejected`: the owner reads it.",
    )
    override_reason = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=5000,
        help_text=(
            "Mandatory to approve while the app's go-live checklist has failing items "
            "(missing SLA, no valid contract, ...): why the app may go live anyway. "
            "Recorded in the activation's audit event; a missing reason answers 400 "
            "naming this field."
        ),
    )

    def validate(self, attrs: dict) -> dict:
        comment = attrs.get("comment", "").strip()
        if attrs["decision"] != ReviewDecision.APPROVED and not comment:
            raise serializers.ValidationError(
                {"comment": "Tell the owner what to change or why the app is rejected."}
            )
        attrs["comment"] = comment
        return attrs
