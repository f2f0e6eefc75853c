"""What the running stack holds, read from its database, and who may do what there.

Expectations come from ``catalog.permissions`` itself, asked with the real users and apps
of the stack: the runner checks that the HTTP layer enforces the predicates, not a second
copy of the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from catalog import permissions
from catalog.choices import AppState
from catalog.models import Contract, MicroApp, Review
from lifecycle.choices import SunsetResponse
from lifecycle.models import SunsetCase
from tests.attack.client import Client

ROLES = ("anonymous", "alice", "bob", "carol", "pat", "fin")
PASSWORD = "appkeeper"  # load_demo's password; the stack is demo data only


@dataclass
class World:
    base: str
    cafile: str | None
    tokens: dict[str, str]
    log_path: str
    users: dict = field(default_factory=dict)
    sessions: dict[str, Client] = field(default_factory=dict)
    # Issued secrets that must never be logged, with what each is.
    secrets: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.users = {u.username: u for u in get_user_model().objects.all()}
        self.users["anonymous"] = None
        self.secrets.update(dict.fromkeys(self.tokens.values(), "API token"))

    # --- callers -----------------------------------------------------------------------------

    def secret(self, value: str, kind: str = "telemetry secret") -> None:
        if value:
            self.secrets[value] = kind

    def api(self, role: str) -> Client:
        return Client(self.base, self.cafile, token=self.tokens.get(role))

    def anonymous(self) -> Client:
        return Client(self.base, self.cafile)

    def session(self, role: str) -> Client:
        """A signed-in browser session for ``role`` (made once, before any limiter check)."""
        if role not in self.sessions:
            client = Client(self.base, self.cafile)
            if role != "anonymous":
                answer = client.sign_in(role, PASSWORD)
                if answer.status != 302:
                    raise RuntimeError(f"{role} could not sign in: {answer.status}")
                self.secrets[client.cookies.get("sessionid", "")] = "session id"
                # The first page after signing in shows its flash message; consume it so
                # that page comparisons see only what they ask for.
                client.get("/", token=False)
            self.sessions[role] = client
        return self.sessions[role]

    # --- the fleet ---------------------------------------------------------------------------

    def app(self, *, state: str, team: str, owner: str | None = None) -> MicroApp:
        apps = MicroApp.objects.filter(state=state, team__slug=team).order_by("slug")
        if owner:
            apps = apps.filter(owner__username=owner)
        found = apps.select_related("team", "owner").first()
        if found is None:
            raise RuntimeError(f"the demo fleet has no {state} app of {team}")
        return found

    def fresh(self, slug: str) -> MicroApp:
        return MicroApp.objects.select_related("team", "owner").get(slug=slug)

    def live_with_contract(self, team: str) -> tuple[MicroApp, str]:
        contract = (
            Contract.objects.filter(app__state=AppState.ACTIVE, app__team__slug=team)
            .select_related("app")
            .order_by("app__slug")
            .first()
        )
        if contract is None:
            raise RuntimeError(f"no active app of {team} with a contract")
        return contract.app, contract.version

    def open_review(self, team: str) -> Review:
        review = Review.objects.filter(decided_at__isnull=True, app__team__slug=team).first()
        if review is None:
            raise RuntimeError(f"no open review for {team}")
        return review

    def sunset_case(self, *, contested: bool) -> SunsetCase:
        cases = SunsetCase.objects.filter(closed_at__isnull=True).select_related("app")
        if contested:
            cases = cases.filter(response=SunsetResponse.CONTEST)
        else:
            cases = cases.exclude(response=SunsetResponse.CONTEST)
        case = cases.order_by("pk").first()
        if case is None:
            raise RuntimeError(f"no {'contested' if contested else 'open'} sunset case")
        return case

    # --- expectations ------------------------------------------------------------------------

    def may(self, role: str, predicate: str, app: MicroApp | None = None) -> bool:
        user = self.users[role]
        if user is None:
            return False
        check = getattr(permissions, predicate)
        return bool(check(user, app) if app is not None else check(user))

    def sees(self, role: str, app: MicroApp) -> bool:
        return self.may(role, "can_view_app", app)
