"""WSGI entry point (gunicorn config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from config.otel import configure_tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Before the app is built: the Django instrumentor adds its middleware to the settings.
configure_tracing("appkeeper-web")
application = get_wsgi_application()
