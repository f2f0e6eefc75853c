"""``/api/v1/tokens/``: the caller's API tokens (the platform team: anyone's), issued and
revoked through ``catalog.token_services`` like the "API tokens" page does."""

from __future__ import annotations

import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.db.models import F
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from catalog import permissions, token_services
from catalog.api.schema import StrictCharField
from catalog.filters import EmptyMeansAnyFilterSet
from core import tokens
from core.models import ApiToken


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as lists show it: what it is called and where it stands, never its value."""

    user = serializers.CharField(source="user.get_username", read_only=True)
    state = serializers.SerializerMethodField()
    expires_soon = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "user",
            "created",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "state",
            "expires_soon",
        ]
        read_only_fields = fields

    def _now(self):
        # One clock per answer, so a list never shows two rows judged at different times.
        if "now" not in self.context:
            self.context["now"] = timezone.now()
        return self.context["now"]

    @extend_schema_field(serializers.ChoiceField(choices=ApiToken.State.choices))
    def get_state(self, token: ApiToken) -> str:
        return token.state_at(self._now())

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_expires_soon(self, token: ApiToken) -> bool:
        """Active and expiring within ``core.tokens.EXPIRY_WARNING_DAYS`` (7) days."""
        return tokens.expires_soon(token, self._now())


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text="The token's value. Shown only in this answer: store it now."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class WholeDaysField(serializers.IntegerField):
    """A JSON integer, not a string or a boolean coerced to one, as the schema promises."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


# What the schema can say of core.tokens.clean_name: one line, not blank. (The few invisible
# format characters it also refuses cannot be written in a pattern that clients read alike.)
ONE_LINE_NOT_BLANK = RegexValidator(
    r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
    "Names cannot contain control characters such as line breaks or tabs.",
)


class ApiTokenCreateSerializer(serializers.Serializer):
    name = StrictCharField(
        max_length=ApiToken.NAME_MAX,
        validators=[ONE_LINE_NOT_BLANK],
        help_text="What uses the token, e.g. “deploy pipeline”. Unique among your active tokens.",
    )

    def get_fields(self):
        fields = super().get_fields()
        # Built per request: the bounds are settings an operator may change.
        fields["expires_in_days"] = WholeDaysField(
            min_value=1,
            max_value=settings.APPKEEPER_API_TOKEN_MAX_DAYS,
            required=False,
            help_text=(
                f"Lifetime in days (default {settings.APPKEEPER_API_TOKEN_DAYS}, "
                f"at most {settings.APPKEEPER_API_TOKEN_MAX_DAYS})."
            ),
        )
        return fields

    def validate_name(self, value: str) -> str:
        try:
            return tokens.clean_name(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["name"]) from None


class ApiTokenFilterSet(EmptyMeansAnyFilterSet):
    user = django_filters.CharFilter(
        field_name="user__username",
        label="Username whose tokens to list (the platform team only; default: yours)",
    )
    state = django_filters.ChoiceFilter(choices=ApiToken.State.choices, method="filter_state")

    class Meta:
        model = ApiToken
        fields = ["user", "state"]

    def filter_state(self, queryset, name, value):
        now = timezone.now()
        if value == ApiToken.State.ACTIVE:
            return queryset.active(now)
        revoked = queryset.filter(revoked_at__isnull=False, revoked_at__lt=F("expires_at"))
        if value == ApiToken.State.REVOKED:
            return revoked
        return queryset.filter(expires_at__lte=now).exclude(pk__in=revoked.values("pk"))


class TokenIssueThrottle(UserRateThrottle):
    scope = "api_tokens"


class ApiTokenViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your API tokens. Send one as ``Authorization: Token apk_...``. A token expires after
    its lifetime and can be revoked at any time; only its hash is stored, so its value is
    shown once, when it is issued. The platform team may list (``?user=<username>``) and
    revoke anyone's tokens."""

    serializer_class = ApiTokenSerializer
    filterset_class = ApiTokenFilterSet
    ordering_fields = ["created", "expires_at", "last_used_at", "name"]
    ordering = ["-created"]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        user = self.request.user
        queryset = ApiToken.objects.select_related("user")
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return queryset.none()
        visible = permissions.visible_tokens_filter(user)
        if visible is not None:
            queryset = queryset.filter(visible)
        if self.action == "list" and not self.request.query_params.get("user"):
            queryset = queryset.filter(user=user)
        return queryset

    def get_throttles(self):
        if self.action == "create":
            return [TokenIssueThrottle()]
        return super().get_throttles()

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer})
    def create(self, request):
        """Issue a token for yourself. The answer carries its value (``apk_...``) this once.
        400 on ``name`` when you already have an active token of that name; 429 past
        ``APPKEEPER_THROTTLE_TOKENS`` (30 an hour) per user."""
        body = ApiTokenCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, value = token_services.token_issue(
            user=request.user,
            actor=request.user,
            name=body.validated_data["name"],
            days=body.validated_data.get("expires_in_days"),
        )
        token.token = value  # type: ignore[attr-defined]
        response = Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(request=None, responses=ApiTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke the token: it stops working at once and stays listed as revoked. Revoking
        a revoked token changes nothing. Another user's token is 404 (the platform team's
        excepted)."""
        token = token_services.token_revoke(token=self.get_object(), actor=request.user)
        return Response(ApiTokenSerializer(token).data)
