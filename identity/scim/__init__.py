"""SCIM 2.0 provisioning (RFC 7643/7644) under ``/scim/v2/``: the identity provider
creates, updates and deactivates users and pushes its groups as Appkeeper teams.

Built on plain Django views rather than DRF, because SCIM brings its own media type, error
resource and conditional requests, and stays out of the ``/api/`` OpenAPI schema. Nothing
is ever hard-deleted: DELETE deactivates a user and unprovisions a team."""
