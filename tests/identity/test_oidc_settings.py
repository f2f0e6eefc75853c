"""Single sign-on's settings fail at start, with the variable named, when they are wrong."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.config.test_settings import PRODUCTION, ROOT, run_check

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


def test_the_provider_origin_may_receive_the_sign_out_form_redirect():
    code = "from config import settings; print(settings.APPKEEPER_CSP['form-action'])"
    env = {**os.environ, **SSO, "OIDC_ISSUER": "https://login.example.com/tenant/v2.0"}
    printed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout

    assert printed.strip() == "[\"'self'\", 'https://login.example.com']"
