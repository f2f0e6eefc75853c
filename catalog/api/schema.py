"""OpenAPI generation tweaks shared by every app's API.

django-filter's ``ModelChoiceFilter``/``ModelMultipleChoiceFilter`` with ``to_field_name``
(``?team=support-tools``, ``?region=eu-central``, ``?app=ticket-router``) take the related
row's slug or code, but drf-spectacular cannot see that and warns, which fails
``manage.py check --deploy --fail-level WARNING``. This extension documents such filters
with the type of the model field they look up, for every FilterSet in the project.
"""

from __future__ import annotations

from django.db import models
from django_filters import BooleanFilter, ModelChoiceFilter, ModelMultipleChoiceFilter
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.drainage import has_override, set_override
from rest_framework import serializers
from rest_framework.exceptions import ValidationError


def _lookup_type(filter_field) -> dict:
    to_field = filter_field.extra.get("to_field_name")
    queryset = filter_field.extra.get("queryset")
    model = getattr(queryset, "model", None)
    try:
        field = model._meta.get_field(to_field) if model is not None else None
    except Exception:
        field = None
    if isinstance(field, (models.IntegerField, models.AutoField)):
        return {"type": "integer"}
    # An empty value names nothing, and is refused as such.
    return {"type": "string", "minLength": 1}


class ToFieldAwareFilterExtension(DjangoFilterExtension):
    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        if (
            isinstance(filter_field, (ModelChoiceFilter, ModelMultipleChoiceFilter))
            and filter_field.extra.get("to_field_name")
            and not has_override(filter_field, "field")
        ):
            set_override(filter_field, "field", _lookup_type(filter_field))
        return super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )


# --- error responses every operation can give ---------------------------------------------

# Deliberately loose: ``{"detail": "..."}`` for most errors, but validation errors map each
# field (which may be called ``code`` or ``detail``) to a list of messages.
ERROR_SCHEMA = {
    "type": "object",
    "description": "An error: usually ``detail`` says what went wrong; validation errors map "
    "each field to its messages.",
    "additionalProperties": True,
}

_ERRORS = {
    "400": "The request is malformed or its data is invalid.",
    "401": "No valid credentials were sent.",
    "403": "The caller may not do this.",
    "404": "No such resource, or not visible to the caller.",
    "405": "The method is not allowed here.",
    "409": "The resource's current state does not allow this.",
    "413": "The request body is too large.",
    "415": "The request body's media type is not supported.",
    "429": "Too many requests; retry after the time in Retry-After.",
}
_WRITE_ONLY = ("409", "413", "415")


def add_error_responses(result: dict, generator, request, public) -> dict:
    """Postprocessing hook: document the errors DRF and our middleware can answer with on
    every operation (keeping any an operation documents itself), so clients and schemathesis
    know a 404 or a 429 is part of the contract, not a surprise."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ApiError", ERROR_SCHEMA)
    ref = {"$ref": "#/components/schemas/ApiError"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _ERRORS.items():
                if status in _WRITE_ONLY and method == "get":
                    continue
                if status in responses:
                    continue
                responses[status] = {
                    "description": description,
                    "content": {"application/json": {"schema": ref}},
                }
    return result


# --- strictness the schema promises ---------------------------------------------------------

_BOOLEAN_WORDS = {"true", "false", "1", "0"}


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, but a boolean filter given something other than true/false (or 1/0)
    is answered 400 instead of being silently ignored."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            errors = {}
            for name, filter_field in filterset.filters.items():
                if not isinstance(filter_field, BooleanFilter):
                    continue
                for raw in request.query_params.getlist(name):
                    if raw.strip().lower() not in _BOOLEAN_WORDS:
                        errors[name] = ["Use true or false."]
            if errors:
                raise ValidationError(errors)
        return filterset


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean (or the words true/false from a form), not 0, 1, "yes" or "on"."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data.lower() in {"true", "false"}:
            return data.lower() == "true"
        self.fail("invalid", input=data)


def use_strict_booleans() -> None:
    """Make every ModelSerializer map BooleanField to StrictBooleanField (from ready())."""
    serializers.ModelSerializer.serializer_field_mapping[models.BooleanField] = StrictBooleanField
