"""CSV as a negotiated format, so ``format=csv`` and ``Accept: text/csv`` both work."""

from __future__ import annotations

from rest_framework.renderers import BaseRenderer

from scorecards.exports import csv_text


class CSVRenderer(BaseRenderer):
    """Renders ``{"header": [...], "rows": [[...], ...]}`` prepared by the view."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict) and "header" in data:
            return csv_text(data["header"], data["rows"]).encode(self.charset)
        # Anything else (should not happen: errors are answered as JSON) as one cell.
        return csv_text(["detail"], [[str(data)]]).encode(self.charset)
