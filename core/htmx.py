"""Full page or fragment: the one rule for views that answer htmx requests with a partial.

A view that serves both from one URL asks :func:`wants_fragment` and is wrapped in
:func:`vary_on_htmx`, so a browser or proxy cache never hands a fragment to a normal
navigation (or the reverse).
"""

from __future__ import annotations

from django.http import HttpRequest
from django.views.decorators.vary import vary_on_headers

# Every request header wants_fragment() reads: responses differ on each of them.
VARY_HEADERS = ("HX-Request", "HX-Target", "HX-Boosted", "HX-History-Restore-Request")


def wants_fragment(request: HttpRequest, target: str | None = None) -> bool:
    """True when the request wants only the fragment, not the whole page.

    It must come from htmx (django-htmx's ``request.htmx``) and not be a history restore
    (htmx missed its cache and needs the page to put back) or a boosted link or form
    (htmx swaps the whole body). With ``target`` (an element id) the request must also
    aim at that element: a request aimed elsewhere, or at nothing, gets the page.
    """
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request or htmx.boosted:
        return False
    return target is None or htmx.target == target


# View decorator: ``Vary`` on every answer of a view that uses wants_fragment().
vary_on_htmx = vary_on_headers(*VARY_HEADERS)
