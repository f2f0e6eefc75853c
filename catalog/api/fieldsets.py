"""Sparse fieldsets, NetBox style: ``?fields=slug,name,state`` answers only those fields,
``?brief=true`` a small fixed set (the serializer's ``Meta.brief_fields``).

Three parts: the serializer mixin that drops the fields not asked for, the view mixin that
reads and checks the query parameters (a 400 naming the valid fields) and hands the names
to the serializer and the queryset, and what the OpenAPI schema says about both.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError

_BOOLEAN_WORDS = {"true": True, "1": True, "false": False, "0": False}


# Serializer side. (Comments, not a docstring: drf-spectacular would publish a mixin's
# docstring as the description of every serializer using it.) ``fields=[names]`` when
# building the serializer keeps only those fields, in the serializer's own order; the view
# has refused unknown names already.
class SparseFieldsMixin:
    def __init__(self, *args, fields=None, **kwargs):
        super().__init__(*args, **kwargs)
        if fields is not None:
            for name in set(self.fields) - set(fields):
                self.fields.pop(name)


class FieldsetViewMixin:
    """``?fields=`` and ``?brief=`` on the ``fieldset_actions`` of a viewset whose
    serializer uses :class:`SparseFieldsMixin`. ``shown_fields`` holds the names asked for
    (None: every field), for ``get_queryset`` to fetch only what they read."""

    fieldset_actions = ("list", "retrieve")
    shown_fields: list[str] | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication and permissions first
        if self.action in self.fieldset_actions:
            self.shown_fields = requested_fields(request, self.get_serializer_class())

    def get_serializer(self, *args, **kwargs):
        # Only for the fieldset actions: the browsable API builds its POST form on a GET.
        if self.action in self.fieldset_actions and self.shown_fields is not None:
            kwargs.setdefault("fields", self.shown_fields)
        return super().get_serializer(*args, **kwargs)


def requested_fields(request, serializer_class) -> list[str] | None:
    """The field names ``?fields=`` or ``?brief=true`` ask for, None for all of them; a
    malformed request is a ValidationError (400) saying what is valid."""
    valid = list(serializer_class.Meta.fields)
    brief = _one_value(request, "brief")
    if brief is not None and brief.lower() not in _BOOLEAN_WORDS:
        raise ValidationError({"brief": ["Use true or false."]})
    raw = _one_value(request, "fields")
    if brief is not None and _BOOLEAN_WORDS[brief.lower()]:
        if raw is not None:
            raise ValidationError({"fields": ["Give either fields or brief=true, not both."]})
        return list(serializer_class.Meta.brief_fields)
    if raw is None:
        return None
    names = raw.split(",")
    unknown = [name for name in names if name not in valid]
    if not raw:
        problem = "Name at least one field."
    elif unknown:
        quoted = ", ".join(f'"{name}"' for name in unknown)
        problem = f"Unknown field{'s' if len(unknown) > 1 else ''}: {quoted}."
    else:
        return list(dict.fromkeys(names))
    raise ValidationError({"fields": [f"{problem} Valid fields: {', '.join(valid)}."]})


def _one_value(request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise ValidationError({name: [f"Give {name} once."]})
    return values[0] if values else None


def fieldset_parameters(serializer_class) -> list[OpenApiParameter]:
    """The ``fields`` and ``brief`` query parameters, for ``extend_schema(parameters=)``."""
    names = list(serializer_class.Meta.fields)
    brief = ", ".join(f"`{name}`" for name in serializer_class.Meta.brief_fields)
    return [
        OpenApiParameter(
            "fields",
            {"type": "array", "items": {"type": "string", "enum": names}, "minItems": 1},
            style="form",
            explode=False,
            description="Answer only these fields, comma-separated (`?fields=slug,name,state`), "
            "in the usual order. Regions and dependencies are not even read unless asked for. "
            "An unknown name is a 400 listing the valid ones.",
        ),
        OpenApiParameter(
            "brief",
            bool,
            description=f"`true`: a small fixed representation, {brief}. "
            "Not together with `fields`.",
        ),
    ]


class FieldsetResponseExtension(OpenApiSerializerExtension):
    """Documents ``MicroAppReadSerializer`` (what ``GET`` answers) as drf-spectacular
    would, minus ``required``: with ``?fields=`` or ``?brief=true`` an answer holds only
    some of the fields, and the schema must say it may."""

    target_class = "catalog.api.serializers.MicroAppReadSerializer"

    def map_serializer(self, auto_schema, direction):
        schema = super().map_serializer(auto_schema, direction)
        schema.pop("required", None)
        return schema
