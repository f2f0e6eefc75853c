"""Run the attack checks against a running Appkeeper and print one table.

    python -m tests.attack

Settings (``.ci/attack.sh`` sets them all):

    ATTACK_BASE_URL            the site, e.g. https://127.0.0.1:18200
    ATTACK_CAFILE              the certificate to trust for it (self-signed in CI)
    ATTACK_TOKENS              a JSON file of API tokens: {"alice": "<token>", ...} for alice,
                               bob, carol, pat and fin
    ATTACK_LOG                 the server's captured log (secrets must not be in it)
    ATTACK_LOGIN_LIMIT         the server's APPKEEPER_LOGIN_MAX_ATTEMPTS
    ATTACK_LOGIN_PER_IP        the server's APPKEEPER_LOGIN_MAX_ATTEMPTS_PER_IP
    ATTACK_TELEMETRY_THROTTLE  requests a minute of the server's telemetry throttle
    DATABASE_URL               the server's database: the runner reads the fleet and asks
                               catalog.permissions who may do what there

Exit status: 0 when every check held, 1 otherwise. The sign-in checks lock the runner's
address out of signing in for the limiter's window, so they run last.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["APPKEEPER_ENV"] = "development"  # the runner only reads the stack's database
    import django

    django.setup()

    from tests.attack import access, inputs, sessions
    from tests.attack.report import Report
    from tests.attack.world import ROLES, World

    with open(os.environ["ATTACK_TOKENS"], encoding="utf-8") as handle:
        tokens = json.load(handle)
    world = World(
        base=os.environ["ATTACK_BASE_URL"].rstrip("/"),
        cafile=os.environ.get("ATTACK_CAFILE") or None,
        tokens=tokens,
        log_path=os.environ["ATTACK_LOG"],
    )
    report = Report()
    for role in ROLES:  # before the limiter checks lock the address out
        world.session(role)
    steps = [
        (access.DRAFTS, lambda: access.run_drafts(world, report)),
        (inputs.XSS, lambda: inputs.run_xss(world, report)),
        (inputs.CONTRACTS, lambda: inputs.run_contracts(world, report)),
        (inputs.BACKSTAGE, lambda: inputs.run_backstage(world, report)),
        (inputs.LIMITS, lambda: inputs.run_limits(world, report)),
        (inputs.RACE, lambda: inputs.run_race(world, report)),
        (sessions.CSRF, lambda: sessions.run_csrf(world, report)),
        (sessions.HEADERS, lambda: sessions.run_headers(world, report)),
        (sessions.REDIRECTS, lambda: sessions.run_redirects(world, report)),
        (access.MATRIX, lambda: access.run_matrix(world, report)),
        (
            sessions.TELEMETRY,
            lambda: sessions.run_telemetry(
                world, report, int(os.environ.get("ATTACK_TELEMETRY_THROTTLE", "30"))
            ),
        ),
        (
            sessions.SIGN_IN,
            lambda: sessions.run_sign_in(
                world,
                report,
                int(os.environ.get("ATTACK_LOGIN_LIMIT", "5")),
                int(os.environ.get("ATTACK_LOGIN_PER_IP", "50")),
            ),
        ),
        (sessions.LOGS, lambda: sessions.run_logs(world, report)),
    ]
    started = time.monotonic()
    for category, step in steps:
        began = time.monotonic()
        try:
            step()
        except Exception as error:  # noqa: BLE001 - one broken category must not hide the rest
            report.crashed(category, error)
        report.seconds[category] += time.monotonic() - began
    print(report.table())
    print(f"\n{len(report.checks)} checks in {time.monotonic() - started:.1f} s")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
