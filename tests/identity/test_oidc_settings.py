"""Single sign-on's settings fail at start, with the variable named, when they are wrong."""

from __future__ import annotations

import pytest

from tests.config.test_settings import PRODUCTION, run_check

SSO = {"OIDC_ISSUER": "https://login.example.com", "OIDC_CLIENT_ID": "appkeeper"}


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"APPKEEPER_OIDC_GROUP_MAP": "{oops"}, "APPKEEPER_OIDC_GROUP_MAP is not valid JSON"),
        ({"APPKEEPER_OIDC_GROUP_MAP": '{"a": ["boss"]}'}, "maps to 'boss'"),
        ({"APPKEEPER_PASSWORD_LOGIN": "false"}, "APPKEEPER_PASSWORD_LOGIN=false needs single"),
        ({**PRODUCTION, **SSO, "OIDC_ISSUER": "http://login.example.com"}, "OIDC_ISSUER must"),
    ],
    ids=["bad json", "unknown role", "no way to sign in", "plain http in production"],
)
def test_a_wrong_sso_setting_stops_the_start(env, says):
    result = run_check(env)

    assert result.returncode != 0
    assert says in result.stderr


def test_production_with_sso_and_passwords_off_passes_the_deploy_check():
    env = {**PRODUCTION, **SSO, "APPKEEPER_PASSWORD_LOGIN": "false"}

    result = run_check(env, "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stderr
