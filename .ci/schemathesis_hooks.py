"""schemathesis hooks for .ci/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

``GET /apps/{slug}/catalog-info.yaml`` answers a YAML *text*: one document, or two
``---``-separated documents when the app has a contract. The schema declares it as what it
is, ``application/yaml`` with ``type: string``. schemathesis would instead parse the body
into a single YAML document (a mapping, and an error for two documents) before checking
it against ``type: string``; so YAML responses are handed to the check as the text they are.
"""

from __future__ import annotations

import schemathesis


@schemathesis.deserializer("application/yaml", "application/x-yaml", "text/yaml")
def yaml_as_text(ctx, response):
    return response.content.decode(response.encoding or "utf-8")
