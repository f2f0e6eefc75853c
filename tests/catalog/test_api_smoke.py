import pytest

pytestmark = pytest.mark.django_db


def test_signed_in_user_lists_apps(api_as, alice):
    response = api_as(alice).get("/api/v1/apps/")
    assert response.status_code == 200
    assert response.json()["count"] == 0
