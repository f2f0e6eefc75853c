"""OpenAPI generation tweaks shared by every app's API.

django-filter's ``ModelChoiceFilter``/``ModelMultipleChoiceFilter`` with ``to_field_name``
(``?team=support-tools``, ``?region=eu-central``, ``?app=ticket-router``) take the related
row's slug or code, but drf-spectacular cannot see that and warns, which fails
``manage.py check --deploy --fail-level WARNING``. This extension documents such filters
with the type of the model field they look up, for every FilterSet in the project.
"""

from __future__ import annotations

import re

from django.db import models
from django_filters import (
    BooleanFilter,
    IsoDateTimeFilter,
    ModelChoiceFilter,
    ModelMultipleChoiceFilter,
)
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.drainage import has_override, set_override
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import empty
from rest_framework.relations import MANY_RELATION_KWARGS

from catalog.filters import EmptyMeansAnyFilterSet


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
    # An empty value names nothing (the FilterSets read it as "any"; see accepting_empty).
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
        parameters = super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )
        if issubclass(filterset_class, EmptyMeansAnyFilterSet):
            for parameter in parameters:
                parameter["schema"] = accepting_empty(parameter["schema"])
        return parameters


def accepting_empty(schema: dict) -> dict:
    """The parameter's schema, also admitting "": our FilterSets read an empty value as
    "any", as the browser's filter forms send it, so the schema must not call it invalid."""
    if schema.get("type") == "array":
        return {**schema, "items": accepting_empty(schema["items"])}
    if schema.get("type") == "string" and not {"enum", "pattern", "format"} & set(schema):
        return {key: value for key, value in schema.items() if key != "minLength"}
    return {"anyOf": [schema, {"type": "string", "enum": [""]}]}


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


# RFC 3339 ``date-time`` (what the schema's ``format: date-time`` promises): a full date, a
# time and an offset. Python's ``fromisoformat`` would also take a bare date or no offset.
RFC3339_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, but a boolean filter given something other than true/false or 1/0
    (blank means no filter), or a date-time filter given anything but a full RFC 3339
    date-time (an empty value included), is answered 400 instead of being silently ignored
    or guessed at."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            errors = {}
            for name, filter_field in filterset.filters.items():
                for raw in request.query_params.getlist(name):
                    if isinstance(filter_field, BooleanFilter):
                        # Blank is the form's "any" option, as the schema admits.
                        if raw.strip() and raw.strip().lower() not in _BOOLEAN_WORDS:
                            errors[name] = ["Use true or false."]
                    elif isinstance(
                        filter_field, IsoDateTimeFilter
                    ) and not RFC3339_DATETIME.fullmatch(raw):
                        errors[name] = ["Use a full date-time like 2026-12-31T00:00:00Z."]
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


class StrictStringMixin:
    """A JSON string (or form text), not a number coerced to one: ``"name": 0`` is a 400,
    as the schema's ``type: string`` promises."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(StrictStringMixin, serializers.CharField):
    pass


class StrictSlugField(StrictStringMixin, serializers.SlugField):
    pass


class StrictEmailField(StrictStringMixin, serializers.EmailField):
    pass


class StrictURLField(StrictStringMixin, serializers.URLField):
    pass


class StrictManyRelatedField(serializers.ManyRelatedField):
    """A JSON array, not any iterable: ``"members": {}`` or ``"regions": "eu"`` is a 400
    instead of an empty (or per-character) list."""

    def to_internal_value(self, data):
        if not isinstance(data, list | tuple):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


class StrictSlugRelatedField(serializers.SlugRelatedField):
    """``SlugRelatedField`` whose ``many=True`` form takes only arrays, and which does not
    turn an empty string into null (the schema's ``minLength: 1`` forbids it)."""

    default_error_messages = {"blank": "This field may not be blank."}

    @classmethod
    def many_init(cls, *args, **kwargs):
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        for key in kwargs:
            if key in MANY_RELATION_KWARGS:
                list_kwargs[key] = kwargs[key]
        return StrictManyRelatedField(**list_kwargs)

    def run_validation(self, data=empty):
        if data == "":  # RelatedField would take it for null
            self.fail("blank")
        return super().run_validation(data)


# The base of the project's model serializers: fields generated from model fields take only
# what the schema promises, JSON booleans (or the words true/false) for boolean columns and
# strings for text columns. The mapping is a copy held by this class, for its subclasses:
# DRF's own ModelSerializer stays as it is. (Comments, not a docstring: drf-spectacular would
# publish a docstring as the description of every subclass without one.)
class StrictModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.BooleanField: StrictBooleanField,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.SlugField: StrictSlugField,
        models.EmailField: StrictEmailField,
        models.URLField: StrictURLField,
    }
