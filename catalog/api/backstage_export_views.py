"""The whole fleet as Backstage entities, for a Backstage URL location (read with an API
token: ``Authorization: Token <token>``)."""

from __future__ import annotations

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.backstage.export import dump
from catalog.backstage.fleet import fleet_entities

FORMATS = ("yaml", "json")


class YAMLEntitiesRenderer(BaseRenderer):
    """``{"items": [...]}`` as ``---``-separated YAML documents, the shape of a catalog
    file; anything else (an error) as one document."""

    media_type = "application/yaml"
    format = "yaml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, dict) and set(data) == {"items"}:
            return dump(data["items"]).encode()
        # Errors hold DRF's string subclasses, which only JSON sees as plain strings.
        return dump([json.loads(json.dumps(data))]).encode()


class BackstageEntitiesView(APIView):
    """Every team, person, app and kept entity as Backstage entities: YAML by default,
    ``?format=json`` for ``{"items": [...]}`` as Backstage's own API answers."""

    # YAML first: a Backstage URL reader sends no Accept header it would match otherwise.
    renderer_classes = [YAMLEntitiesRenderer, JSONRenderer]

    def perform_content_negotiation(self, request, force=False):
        """An unknown ``?format=`` is a 400 naming the field, answered in JSON, rather
        than the 404 content negotiation gives it."""
        wanted = request.query_params.get("format")
        if wanted and wanted not in FORMATS:
            if force:  # rendering the error itself
                return JSONRenderer(), JSONRenderer.media_type
            raise ValidationError({"format": [f"Choose one of: {', '.join(FORMATS)}."]})
        return super().perform_content_negotiation(request, force)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=list(FORMATS),
                description="yaml (default): a multi-document catalog file; json: "
                '`{"items": [...]}`.',
            )
        ],
        responses={
            (200, "application/yaml"): OpenApiResponse(
                OpenApiTypes.STR,
                description="Groups, Users, Components, APIs and the other kept entities as "
                "`---`-separated YAML documents.",
            ),
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description='The same entities as `{"items": [...]}`.'
            ),
            (400, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="`format` is neither yaml nor json."
            ),
        },
        operation_id="backstage_entities",
    )
    def get(self, request):
        return Response({"items": fleet_entities(request.user)})
