from __future__ import annotations

import re

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

_WHOLE_NUMBER = re.compile(r"[0-9]+", re.ASCII)


class StandardPagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` (1 to 500) on every list.

    A malformed ``page_size`` is answered 400 instead of silently replaced by the default,
    so a client learns about its mistake (and the schema's bounds hold)."""

    page_size_query_param = "page_size"
    max_page_size = 500

    # The schema says integer: ASCII digits only (int() would also take " 5", "+5", "٥").
    last_page_strings = ()

    def paginate_queryset(self, queryset, request, view=None):
        # `?page=1&page=2` or `?page=` is not an integer: 400 rather than a guess.
        for name in (self.page_query_param, self.page_size_query_param):
            values = request.query_params.getlist(name)
            if len(values) > 1:
                raise ValidationError({name: f"Give {name} once."})
            if values and not _WHOLE_NUMBER.fullmatch(values[0]):
                raise ValidationError({name: "A whole number."})
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({"page_size": "A whole number from 1 to 500."}) from None
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({"page_size": "A whole number from 1 to 500."})
        return size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters
