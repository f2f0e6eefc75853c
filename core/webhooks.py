"""Standard Webhooks secrets: the one format for apps' telemetry ingestion secrets and for
teams' webhook secrets (https://www.standardwebhooks.com/)."""

from __future__ import annotations

import base64
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes, the format the scheme's libraries accept."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()
