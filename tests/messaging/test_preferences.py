"""The notification settings page and API: a person's own cadences and time zone, saved
all or nothing, with field-level errors."""

from __future__ import annotations

import pytest
from django.urls import reverse

from messaging.models import Cadence, ChatProfile, NotificationPreference, Topic

pytestmark = pytest.mark.django_db
PAGE = "/me/notifications/settings/"
API = "/api/v1/me/notification-preferences/"


def form_data(**overrides):
    data = {f"{t.value}__email": Cadence.IMMEDIATE for t in Topic}
    data["time_zone"] = ""
    data.update(overrides)
    return data


def test_the_notifications_page_links_the_settings(client, alice):
    client.force_login(alice)
    assert PAGE in client.get(reverse("lifecycle:notifications")).content.decode()


def test_the_page_offers_every_topic_with_a_named_select_and_the_urgent_note(
    client, alice, settings
):
    settings.SLACK_BOT_TOKEN = ""
    client.force_login(alice)
    body = client.get(PAGE).content.decode()
    assert 'aria-label="Reviews by email"' in body
    assert "in Slack" not in body and "Slack direct message" not in body
    assert "within 7 days of expiry always go out immediately" in body
    assert '<option value="America/New_York">' in body
    assert "The installation&#x27;s (UTC)" in body
    settings.SLACK_BOT_TOKEN = "xoxb-test"
    assert 'aria-label="Reviews in Slack"' in client.get(PAGE).content.decode()


def test_saving_writes_every_choice_and_the_time_zone(client, alice, settings):
    settings.SLACK_BOT_TOKEN = "xoxb-test"
    client.force_login(alice)
    data = form_data(
        reviews__email=Cadence.WEEKLY, sunset__slack=Cadence.OFF, time_zone="Asia/Tokyo"
    )
    data.update({f"{t.value}__slack": data.get(f"{t.value}__slack", Cadence.DAILY) for t in Topic})
    response = client.post(PAGE, data)
    assert response.status_code == 302
    saved = dict(
        NotificationPreference.objects.filter(user=alice, channel="email").values_list(
            "topic", "cadence"
        )
    )
    assert saved["reviews"] == Cadence.WEEKLY and saved["expiry"] == Cadence.IMMEDIATE
    assert (
        NotificationPreference.objects.get(user=alice, topic="sunset", channel="slack").cadence
        == "off"
    )
    assert ChatProfile.objects.get(user=alice).time_zone == "Asia/Tokyo"
    assert 'value="weekly" selected' in client.get(PAGE).content.decode()


def test_a_bad_value_is_shown_inline_and_nothing_is_saved(client, alice):
    client.force_login(alice)
    response = client.post(PAGE, form_data(reviews__email="hourly", time_zone="Mars/Base"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was saved" in body and "Select a valid choice" in body
    assert not NotificationPreference.objects.exists() and not ChatProfile.objects.exists()


def test_the_page_needs_a_sign_in(client):
    assert client.get(PAGE).status_code == 302


def test_the_api_reads_the_defaults_and_writes_own_preferences(api, alice, bob, settings):
    settings.SLACK_BOT_TOKEN = ""
    api.force_authenticate(alice)
    got = api.get(API).json()
    assert got["time_zone"] == "" and got["effective_time_zone"] == "UTC"
    assert got["slack_enabled"] is False and got["urgent_days"] == 7
    assert {p["topic"] for p in got["preferences"]} == {t.value for t in Topic}
    assert {p["cadence"] for p in got["preferences"]} == {"immediate"}
    put = api.put(
        API,
        {
            "time_zone": "Europe/Berlin",
            "preferences": [{"topic": "reviews", "channel": "email", "cadence": "daily"}],
        },
        format="json",
    )
    assert put.status_code == 200
    assert put.json()["effective_time_zone"] == "Europe/Berlin"
    assert {"topic": "reviews", "channel": "email", "cadence": "daily"} in put.json()["preferences"]
    assert not NotificationPreference.objects.filter(user=bob).exists()
    api.force_authenticate(bob)
    assert {p["cadence"] for p in api.get(API).json()["preferences"]} == {"immediate"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "preferences"),
        (
            {"preferences": [{"topic": "weather", "channel": "email", "cadence": "daily"}]},
            "preferences",
        ),
        (
            {"preferences": [{"topic": "reviews", "channel": "slack", "cadence": "daily"}]},
            "preferences",
        ),
        (
            {"preferences": [{"topic": "reviews", "channel": "email", "cadence": "daily"}] * 2},
            "preferences",
        ),
        (
            {
                "time_zone": "Mars/Base",
                "preferences": [{"topic": "reviews", "channel": "email", "cadence": "daily"}],
            },
            "time_zone",
        ),
    ],
)
def test_the_api_refuses_bad_input_field_by_field_and_saves_nothing(
    api, alice, settings, body, field
):
    settings.SLACK_BOT_TOKEN = ""
    api.force_authenticate(alice)
    response = api.put(API, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not NotificationPreference.objects.exists() and not ChatProfile.objects.exists()


def test_the_api_needs_a_sign_in(api):
    assert api.get(API).status_code in (401, 403)


def test_the_page_and_the_api_cost_the_same_queries_whatever_was_saved(
    client, alice, django_assert_max_num_queries
):
    client.force_login(alice)
    client.get(PAGE)
    with django_assert_max_num_queries(8):
        assert client.get(PAGE).status_code == 200
    for topic in Topic:
        NotificationPreference.objects.create(
            user=alice, topic=topic, channel="email", cadence="daily"
        )
    with django_assert_max_num_queries(8):
        assert client.get(PAGE).status_code == 200
