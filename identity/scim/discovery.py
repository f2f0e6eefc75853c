"""Discovery (RFC 7644 §4): what this service provider supports, as the Users and Groups
modules implement it. Static, except for the absolute locations."""

from __future__ import annotations

from django.urls import reverse

from identity.scim import groups, users
from identity.scim.resources import MAX_COUNT

CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"


def service_provider_config(request) -> dict:
    return {
        "schemas": [CONFIG_SCHEMA],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_COUNT},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "A provisioning token from Appkeeper's Provisioning page, "
                "sent as Authorization: Bearer aps_….",
                "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
                "primary": True,
            }
        ],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": request.build_absolute_uri(reverse("scim:service-provider-config")),
        },
    }


def resource_types(request) -> list[dict]:
    def described(name: str, endpoint: str, schema: str) -> dict:
        return {
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": name,
            "name": name,
            "endpoint": endpoint,
            "schema": schema,
            "meta": {
                "resourceType": "ResourceType",
                "location": request.build_absolute_uri(reverse("scim:resource-type", args=[name])),
            },
        }

    return [described("User", "/Users", users.SCHEMA), described("Group", "/Groups", groups.SCHEMA)]


def _attribute(name: str, kind: str = "string", **overrides) -> dict:
    described = {
        "name": name,
        "type": kind,
        "multiValued": False,
        "required": False,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    }
    described.update(overrides)
    return described


def _multi(name: str, subs: list[dict], **overrides) -> dict:
    return _attribute(name, "complex", multiValued=True, subAttributes=subs, **overrides)


USER_ATTRIBUTES = [
    _attribute("userName", required=True, uniqueness="server"),
    _attribute("externalId", caseExact=True),
    _attribute(
        "name",
        "complex",
        subAttributes=[
            _attribute("givenName"),
            _attribute("familyName"),
            _attribute("formatted", mutability="readOnly"),
        ],
    ),
    _attribute("displayName"),
    _multi(
        "emails",
        [_attribute("value"), _attribute("type"), _attribute("primary", "boolean")],
    ),
    _attribute("active", "boolean"),
    _multi(
        "groups",
        [
            _attribute("value", mutability="readOnly"),
            _attribute("display", mutability="readOnly"),
            _attribute("$ref", "reference", mutability="readOnly", referenceTypes=["Group"]),
        ],
        mutability="readOnly",
    ),
]
GROUP_ATTRIBUTES = [
    _attribute("displayName", required=True, uniqueness="server"),
    _attribute("externalId", caseExact=True),
    _multi(
        "members",
        [
            _attribute("value", mutability="immutable"),
            _attribute("display", mutability="readOnly"),
            _attribute("$ref", "reference", mutability="immutable", referenceTypes=["User"]),
            _attribute("type", mutability="immutable", canonicalValues=["User"]),
        ],
    ),
]


def schemas(request) -> list[dict]:
    def described(uri: str, name: str, attributes: list[dict]) -> dict:
        return {
            "schemas": [SCHEMA_SCHEMA],
            "id": uri,
            "name": name,
            "description": f"{name} as Appkeeper keeps it",
            "attributes": attributes,
            "meta": {
                "resourceType": "Schema",
                "location": request.build_absolute_uri(reverse("scim:schema", args=[uri])),
            },
        }

    return [
        described(users.SCHEMA, "User", USER_ATTRIBUTES),
        described(groups.SCHEMA, "Group", GROUP_ATTRIBUTES),
    ]
