"""The 404, 403 and 500 pages use the design; the 500 page renders without the database."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.test import Client, RequestFactory

from core.views import server_error


@pytest.mark.django_db
def test_a_404_shows_the_designed_page(client, alice):
    client.force_login(alice)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    body = response.content.decode()
    assert 'class="error-page card"' in body and "Not found" in body


@pytest.mark.django_db
@pytest.mark.urls("tests.core.urls_raising")
def test_a_crash_shows_the_designed_500_page():
    client = Client(raise_request_exception=False)

    response = client.get("/test-crash/")

    assert response.status_code == 500
    body = response.content.decode()
    assert 'class="error-page card"' in body and "Something went wrong" in body
    assert "/static/css/app.css" in body
    assert "Traceback" not in body and "deliberate crash" not in body


def test_the_500_page_renders_without_the_database():
    # No django_db mark: any query in the handler or its template fails this test.
    response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


@pytest.mark.django_db
def test_favicon_ico_leads_to_the_logo_instead_of_a_404(client):
    # Signed out too: browsers ask for it on any page, the sign-in page included.
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("img/logo.svg")
    assert "max-age=86400" in response["Cache-Control"]
    assert finders.find("img/logo.svg")
