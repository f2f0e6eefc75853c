"""How teams, regions and apps read and write over the API."""

from __future__ import annotations

from decimal import Decimal
from operator import attrgetter, itemgetter

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings
from rest_framework.validators import UniqueValidator

from catalog import policies, roles
from catalog.api.schema import (
    StrictBooleanField,
    StrictCharField,
    StrictModelSerializer,
    StrictSlugRelatedField,
)
from catalog.choices import (
    Criticality,
    Environment,
    Jurisdiction,
    ReviewDecision,
    Risk,
    SupportHours,
)
from catalog.models import RESERVED_SLUGS, MicroApp, Region, Review, Team, slug_validator
from catalog.querysets import LIST_ARRAYS, m2m_ordering

User = get_user_model()


class RegionSerializer(StrictModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "jurisdiction", "sovereign", "pci"]


class TeamSerializer(StrictModelSerializer):
    members = StrictSlugRelatedField(
        many=True, slug_field="username", queryset=User.objects.all(), required=False
    )

    class Meta:
        model = Team
        fields = ["slug", "name", "cost_center", "contact_email", "chat_channel", "members"]


class PolicyFindingSerializer(serializers.Serializer):
    rule = StrictCharField()
    severity = serializers.ChoiceField(choices=policies.Severity.choices)
    field = StrictCharField(help_text="The app field to fix (or `contract`).")
    message = StrictCharField()


class MicroAppListSerializer(serializers.ListSerializer):
    """Lists of apps, serialised without DRF's per-field machinery.

    A page of 100 apps through the generic path costs thousands of field lookups
    (``get_attribute``, ``to_representation``, a related manager and queryset per
    many-to-many and row); here each column is read once with a converter chosen once per
    list. Rows are model instances or, from the API list (``for_api_list``), plain dicts
    with the team's slug, the owner's username and, on PostgreSQL, the regions and
    dependencies as columns; otherwise those come from one query each for the whole page.
    The output is exactly the child serializer's (``tests/catalog/test_api.py`` proves rows
    equal the generic and the detail JSON); a field this class does not know takes the
    generic path."""

    def to_representation(self, data):
        request = self.context.get("request")
        view = self.context.get("view")
        if request is None or getattr(view, "format_kwarg", None):
            # `/apps.json` style requests put the format into every `url`: the generic path.
            return super().to_representation(data)
        apps = list(data)
        dict_rows = bool(apps) and isinstance(apps[0], dict)
        read = itemgetter if dict_rows else attrgetter
        related = {
            name: _slugs_by_app(apps, name, field.child_relation.slug_field, read)
            for name, field in self.child.fields.items()
            if name in ("regions", "depends_on")
        }
        plan = [
            (name, _app_converter(name, field, read, related.get(name)))
            for name, field in self.child.fields.items()
        ]
        # `url` is the same for every row up to the slug: reverse once, not once per row.
        marker = "slug-placeholder"
        template = request.build_absolute_uri(reverse("api:app-detail", kwargs={"slug": marker}))
        head, _, tail = template.partition(marker)
        slug_of = read("slug")
        rows = []
        for app in apps:
            row = {}
            for name, convert in plan:
                if name == "url":
                    row[name] = f"{head}{slug_of(app)}{tail}"
                else:
                    row[name] = convert(app)
            rows.append(row)
        return rows


def _slugs_by_app(apps: list, name: str, attr: str, read=attrgetter) -> dict[int, list[str]]:
    """``{app id: [attr of each related row]}`` for the many-to-many ``name`` of ``apps``
    (instances, or dict rows with ``read=itemgetter``), in the related model's default
    ordering (as ``app.<name>.all()`` gives them): from the rows' own array column
    (``for_api_list`` on PostgreSQL) or prefetch cache when they have one, else from one
    query over the join table."""
    pk_of = read("id")
    column, value = LIST_ARRAYS.get(name, (None, None))
    if apps and value == attr:
        dicts = read is itemgetter
        if all((column in app) if dicts else hasattr(app, column) for app in apps):
            in_column = read(column)
            return {pk_of(app): in_column(app) for app in apps}
    if apps and all(name in getattr(app, "_prefetched_objects_cache", {}) for app in apps):
        return {
            app.pk: [getattr(obj, attr) for obj in app._prefetched_objects_cache[name]]
            for app in apps
        }
    field = MicroApp._meta.get_field(name)
    source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
    pairs = (
        field.remote_field.through.objects.filter(**{f"{source}_id__in": [pk_of(a) for a in apps]})
        .order_by(*m2m_ordering(field), f"{target}_id")
        .values_list(f"{source}_id", f"{target}__{attr}")
    )
    by_app: dict[int, list[str]] = {pk_of(app): [] for app in apps}
    for app_id, value in pairs:
        by_app[app_id].append(value)
    return by_app


def _iso_8601(field: serializers.DateTimeField) -> bool:
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    return isinstance(output_format, str) and output_format.lower() == ISO_8601


def _plain_decimal_text(field: serializers.DecimalField) -> bool:
    """Whether the field writes a decimal as ``f"{value:f}"`` once quantized."""
    coerce = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    return (
        coerce and field.decimal_places is not None and not field.normalize_output
        and not field.localize
    )  # fmt: skip


def _app_converter(name: str, field: serializers.Field, read, related: dict | None = None):
    """A function of the app row giving ``field``'s JSON value, as the serializer would.
    ``read`` is ``itemgetter`` for dict rows, ``attrgetter`` for model instances."""
    get = read(name)
    if name in ("team", "owner"):
        # ``for_api_list`` rows carry the slug as a column (``list_team``, ``list_owner``).
        if read is itemgetter:
            return itemgetter(f"list_{name}")
        slug_field = field.slug_field

        def related_slug(app):
            related = getattr(app, name)
            return None if related is None else getattr(related, slug_field)

        return related_slug
    if related is not None:
        pk_of = read("id")
        return lambda app: related[pk_of(app)]
    if name == "tags":

        def tags(app):
            value = get(app)
            return None if value is None else [None if t is None else str(t) for t in value]

        return tags
    if name == "risk":
        if read is itemgetter:
            flags = itemgetter("handles_pii", "handles_payment_data", "externally_exposed")
            return lambda app: Risk.HIGH if any(flags(app)) else Risk.LOW
        return get
    if name == "policy_findings":
        if read is itemgetter:  # findings are evaluated on instances, and not in lists
            return lambda app: None
        return lambda app: MicroAppSerializer.findings(app, in_list=True)
    if field.source != name or isinstance(field, serializers.RelatedField):

        def generic(app):
            # What ``Serializer.to_representation`` does for one field (DRF reads Mappings
            # by key, objects by attribute).
            attribute = field.get_attribute(app)
            return None if attribute is None else field.to_representation(attribute)

        return generic
    if isinstance(field, serializers.BooleanField):

        def boolean(app):
            value = get(app)
            return value if value is None else bool(value)

        return boolean
    if isinstance(field, serializers.IntegerField):

        def integer(app):
            value = get(app)
            return value if value is None else int(value)

        return integer
    if isinstance(field, serializers.ChoiceField):
        lookup = field.choice_strings_to_values

        def choice(app):
            value = get(app)
            return value if value in ("", None) else lookup.get(str(value), value)

        return choice
    if isinstance(field, serializers.CharField):  # slugs, URLs, e-mails, texts

        def plain(app):
            value = get(app)
            return value if value is None else str(value)

        return plain

    if isinstance(field, serializers.DateTimeField) and _iso_8601(field):
        # ``DateTimeField.to_representation`` minus the per-value time-zone lookup.
        zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()

        def moment(app):
            value = get(app)
            if not value:
                return None
            if zone is not None and timezone.is_aware(value):
                value = value.astimezone(zone)
            elif zone is not None or timezone.is_aware(value):
                return field.to_representation(value)  # naive values: DRF's own rules
            text = value.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text

        return moment

    if isinstance(field, serializers.DecimalField) and _plain_decimal_text(field):
        # A column of the field's own scale is already quantized: DRF's quantize (a
        # decimal context copied per value) would return it unchanged.
        exponent = -field.decimal_places

        def decimal_text(app):
            value = get(app)
            if value is None:
                return None
            if isinstance(value, Decimal) and value.as_tuple().exponent == exponent:
                return f"{value:f}"
            return field.to_representation(value)

        return decimal_text

    # Anything else: the field's own conversion, minus the lookups.
    def converted(app):
        value = get(app)
        return None if value is None else field.to_representation(value)

    return converted


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
        slug_field="username", queryset=User.objects.filter(is_active=True), required=False
    )
    regions = StrictSlugRelatedField(
        many=True, slug_field="code", queryset=Region.objects.all(), required=False
    )
    depends_on = StrictSlugRelatedField(
        many=True, slug_field="slug", queryset=MicroApp.objects.all(), required=False
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

    class Meta:
        model = MicroApp
        fields = [
            "slug", "name", "description", "kind", "team", "owner", "contact", "runtime",
            "environment", "criticality", "handles_pii", "handles_payment_data",
            "externally_exposed", "data_residency", "regions", "depends_on",
            "sla_availability", "sla_p95_ms", "sla_support_hours", "docs_url", "runbook_url",
            "repository_url", "tags", "state", "risk", "expires_at", "last_seen_at",
            "went_live_at", "retired_at", "retired_reason", "created_at", "updated_at", "url",
            "policy_findings",
        ]  # fmt: skip
        list_serializer_class = MicroAppListSerializer
        read_only_fields = [
            "state", "expires_at", "last_seen_at", "went_live_at", "retired_at",
            "retired_reason", "created_at", "updated_at",
        ]  # fmt: skip

    @extend_schema_field(serializers.ChoiceField(choices=Risk.choices))
    def get_risk(self, app: MicroApp) -> str:
        return app.risk

    @extend_schema_field(PolicyFindingSerializer(many=True, allow_null=True))
    def get_policy_findings(self, app: MicroApp) -> list[dict] | None:
        """Policy findings (block and warn) on a single app; null in lists, where evaluating
        every row would cost a query each (the ``/policies/`` page covers the fleet)."""
        return self.findings(app, in_list=isinstance(self.parent, serializers.ListSerializer))

    @staticmethod
    def findings(app: MicroApp, *, in_list: bool) -> list[dict] | None:
        findings = getattr(app, "policy_findings", None)
        if findings is None:
            if in_list:
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
        if not roles.is_platform(user) and team.pk not in roles.team_ids(user):
            raise serializers.ValidationError("You can only register apps for your own teams.")
        return team

    def validate_depends_on(self, apps: list[MicroApp]) -> list[MicroApp]:
        if self.instance is not None and any(a.pk == self.instance.pk for a in apps):
            raise serializers.ValidationError("An app cannot depend on itself.")
        return apps

    def validate(self, attrs: dict) -> dict:
        current = self.instance

        def value(field):
            if field in attrs:
                return attrs[field]
            return getattr(current, field) if current is not None else None

        errors: dict[str, str] = {}
        if value("handles_pii") and not value("data_residency"):
            errors["data_residency"] = (
                "Apps that handle personal data must declare where that data must stay."
            )
        if errors:
            raise serializers.ValidationError(errors)
        if current is None and "owner" not in attrs:
            attrs["owner"] = self._user()
        return attrs


class MicroAppCreatedSerializer(MicroAppSerializer):
    """The answer to a registration: the app plus its telemetry ingestion secret, which is
    shown this once (``rotate-secret`` issues a new one)."""

    ingestion_secret = serializers.CharField(read_only=True)

    class Meta(MicroAppSerializer.Meta):
        fields = [*MicroAppSerializer.Meta.fields, "ingestion_secret"]


class RetireSerializer(serializers.Serializer):
    reason = StrictCharField(min_length=5, max_length=2000)


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


class PolicyRuleSerializer(serializers.Serializer):
    id = StrictCharField()
    description = StrictCharField()
    severity = serializers.ChoiceField(choices=policies.Severity.choices)


class PolicyAppFieldsSerializer(serializers.Serializer):
    """The app fields policies look at, all optional; other keys of an app payload are
    ignored, so a whole ``GET /apps/{slug}/`` body can be posted as it is."""

    slug = StrictCharField(required=False, allow_blank=True)
    name = StrictCharField(required=False, allow_blank=True)
    environment = serializers.ChoiceField(choices=Environment.choices, required=False)
    criticality = serializers.ChoiceField(choices=Criticality.choices, required=False)
    handles_pii = StrictBooleanField(required=False)
    handles_payment_data = StrictBooleanField(required=False)
    externally_exposed = StrictBooleanField(required=False)
    data_residency = serializers.ChoiceField(
        choices=Jurisdiction.choices, required=False, allow_blank=True
    )
    regions = StrictSlugRelatedField(
        many=True, slug_field="code", queryset=Region.objects.all(), required=False
    )
    team = StrictSlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )
    owner = StrictSlugRelatedField(
        slug_field="username", queryset=User.objects.all(), required=False, allow_null=True
    )
    sla_availability = serializers.DecimalField(
        max_digits=6, decimal_places=3, required=False, allow_null=True
    )
    sla_p95_ms = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    sla_support_hours = serializers.ChoiceField(
        choices=SupportHours.choices, required=False, allow_blank=True
    )
    docs_url = serializers.URLField(required=False, allow_blank=True)
    runbook_url = serializers.URLField(required=False, allow_blank=True)
    repository_url = serializers.URLField(required=False, allow_blank=True)


class PolicyEvaluateSerializer(PolicyAppFieldsSerializer):
    """Either an app payload, or ``{"app": "<slug>", "changes": {...}}``."""

    # A plain slug, looked up among the apps the caller may see (404 otherwise), so the
    # answer does not reveal whether another team's draft exists.
    app = serializers.SlugField(
        required=False, help_text="An existing app to evaluate, with `changes` applied on top."
    )
    changes = serializers.DictField(required=False, help_text="Proposed changes to `app`.")

    def validate_changes(self, changes: dict) -> dict:
        fields = PolicyAppFieldsSerializer(data=changes)
        fields.is_valid(raise_exception=True)
        return fields.validated_data

    def validate(self, attrs: dict) -> dict:
        if "changes" in attrs and "app" not in attrs:
            raise serializers.ValidationError({"app": "Name the app the changes apply to."})
        return attrs


class PolicyEvaluationSerializer(serializers.Serializer):
    app = StrictCharField(allow_null=True)
    passed = serializers.BooleanField(help_text="No `block` finding.")
    findings = PolicyFindingSerializer(many=True)


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
            "id", "app", "app_name", "app_state", "risk_reasons", "requested_by",
            "requested_at", "due_at", "is_overdue", "escalated_at", "reviewer", "decision",
            "comment", "decided_at", "url",
        ]  # fmt: skip
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

    def validate(self, attrs: dict) -> dict:
        comment = attrs.get("comment", "").strip()
        if attrs["decision"] != ReviewDecision.APPROVED and not comment:
            raise serializers.ValidationError(
                {"comment": "Tell the owner what to change or why the app is rejected."}
            )
        attrs["comment"] = comment
        return attrs
