"""The confirmation a retirement needs while live apps call the app, and the 409 that
asks for it; shared by the retire endpoint and the sunset case answers and decisions."""

from __future__ import annotations

from rest_framework import serializers

from catalog.api.schema import StrictCharField, StrictSlugField
from catalog.choices import AppState


def confirm_dependents_field() -> serializers.ListField:
    return serializers.ListField(
        child=StrictSlugField(max_length=80),
        required=False,
        max_length=1000,
        help_text=(
            "The slugs of every live app that calls this one, to confirm retiring it anyway. "
            "Required, and must list exactly those apps, while there are any; a 409 with "
            "`code: dependents_not_confirmed` lists them."
        ),
    )


class DependentSummarySerializer(serializers.Serializer):
    slug = StrictCharField()
    name = StrictCharField()
    state = serializers.ChoiceField(choices=AppState.choices)
    team = StrictCharField(help_text="The team's slug.")
    owner = StrictCharField(
        allow_null=True, help_text="The owner's username; null for a team-owned app."
    )


class RetireConflictSerializer(serializers.Serializer):
    """A refused retirement (409): the app cannot be retired from its state
    (``invalid_transition``), or live apps call it and ``confirm_dependents`` did not name
    exactly them (``dependents_not_confirmed``, with ``dependents``)."""

    detail = StrictCharField()
    code = StrictCharField()
    dependents = DependentSummarySerializer(
        many=True, required=False, help_text="Only for `dependents_not_confirmed`."
    )
