"""The project's routes plus one view that raises, to see the 500 page a crash produces."""

from django.urls import path

from config.urls import handler403, handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def crash(request):
    raise RuntimeError("deliberate crash for the error-page test")


urlpatterns = [path("test-crash/", crash), *project_urlpatterns]
