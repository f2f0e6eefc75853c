"""SCIM Users as Appkeeper accounts: ``userName`` is the username, ``name`` the first and
last name, the primary work e-mail the account's address, ``active`` the account switch
(through ``identity.people``, so deactivating hands the person's apps over) and
``externalId`` the directory's id on ``Person``. ``groups`` (read-only) lists the person's
teams. Attributes Appkeeper does not keep (phone numbers, titles, passwords, extension
schemas) are accepted and ignored; people sign in through the identity provider."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Concat, Trim
from django.urls import reverse

from catalog.models import AuditEvent
from identity import people
from identity.models import DeactivatedVia, Source
from identity.scim import patch
from identity.scim.errors import invalid_value, mutability, uniqueness
from identity.scim.filters import Field
from identity.scim.resources import Selection, text, timestamp, version

User = get_user_model()
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
FIELDS = {
    "id": Field("pk", "id"),
    "username": Field("username"),
    "externalid": Field("person__external_id", "exact"),
    "displayname": Field("scim_display_name"),
    "name.givenname": Field("first_name"),
    "name.familyname": Field("last_name"),
    "emails": Field("email"),
    "emails.value": Field("email"),
    "active": Field("is_active", "boolean"),
}
# The state's keys that are columns of the user, and which.
USER_COLUMNS = {
    "userName": "username",
    "givenName": "first_name",
    "familyName": "last_name",
    "email": "email",
}
# Written by Appkeeper, never by the directory.
READ_ONLY = frozenset({"id", "meta", "groups", "schemas"})


def queryset():
    full_name = Trim(Concat(F("first_name"), Value(" "), F("last_name")))
    display = Case(When(Q(first_name="") & Q(last_name=""), then=F("username")), default=full_name)
    return User.objects.select_related("person").annotate(scim_display_name=display).order_by("pk")


def display_name(user) -> str:
    return user.get_full_name() or user.get_username()


def current_version(user) -> str:
    person = user.person if hasattr(user, "person") else None
    return version(person.updated_at if person else user.date_joined)


def location(request, user) -> str:
    return request.build_absolute_uri(reverse("scim:user", args=[user.pk]))


def to_resource(request, user, *, with_groups: bool = True) -> dict:
    person = user.person if hasattr(user, "person") else None
    resource = {
        "schemas": [SCHEMA],
        "id": str(user.pk),
        "externalId": person.external_id if person and person.external_id else None,
        "userName": user.get_username(),
        "name": {
            "givenName": user.first_name,
            "familyName": user.last_name,
            "formatted": user.get_full_name(),
        },
        "displayName": display_name(user),
        "emails": [{"value": user.email, "type": "work", "primary": True}] if user.email else [],
        "active": user.is_active,
        "meta": {
            "resourceType": "User",
            "created": timestamp(user.date_joined),
            "lastModified": timestamp(person.updated_at if person else user.date_joined),
            "location": location(request, user),
            "version": current_version(user),
        },
    }
    if resource["externalId"] is None:
        del resource["externalId"]
    if with_groups:
        resource["groups"] = [
            {
                "value": str(team.pk),
                "display": team.name,
                "$ref": request.build_absolute_uri(reverse("scim:group", args=[team.pk])),
            }
            for team in user.appkeeper_teams.all()
        ]
    return resource


# --- reading a body into the account's own terms --------------------------------------------


def render(request, obj, selection: Selection) -> dict:
    return selection.apply(to_resource(request, obj, with_groups=selection.wants("groups")))


def state_of(user) -> dict:
    person = user.person if hasattr(user, "person") else None
    return {
        "userName": user.username,
        "givenName": user.first_name,
        "familyName": user.last_name,
        "email": user.email,
        "externalId": person.external_id if person else "",
        "active": user.is_active,
    }


def _email_from(value: object) -> str:
    """The address to keep from an ``emails`` value: the primary one, else the work one,
    else the first. Appkeeper keeps one address per person."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise invalid_value("emails must be a list of objects with a value.")
    if not value:
        return ""
    chosen = (
        next((item for item in value if patch.boolean(item.get("primary", False), "primary")), None)
        or next((item for item in value if str(item.get("type", "")).lower() == "work"), None)
        or value[0]
    )
    return chosen.get("value") or ""


def _split_display(state: dict, value: object) -> None:
    """Appkeeper derives displayName from the name; a displayName written alone becomes
    the name (the last word the family name), so it reads back as written."""
    display = text(value, "displayName", limit=301)
    if not display or display == (f"{state['givenName']} {state['familyName']}".strip()):
        return
    given, _, family = display.rpartition(" ")
    state["givenName"], state["familyName"] = (given, family) if given else (display, "")


def from_body(body: dict, *, active_default: bool | None) -> dict:
    """The state a POST or PUT body describes (absent attributes are cleared)."""
    state = {
        "userName": body.get("userName"),
        "givenName": "",
        "familyName": "",
        "email": _email_from(body.get("emails")),
        "externalId": body.get("externalId") or "",
        "active": active_default,
    }
    name = body.get("name")
    if isinstance(name, dict):
        state["givenName"] = name.get("givenName") or ""
        state["familyName"] = name.get("familyName") or ""
    elif name is not None:
        raise invalid_value("name must be an object with givenName and familyName.")
    elif body.get("displayName"):
        _split_display(state, body["displayName"])
    if "active" in body:
        state["active"] = patch.boolean(body["active"], "active")
    return state


def _assign(state: dict, attr: str, sub: str, value: object, op: str) -> None:
    removing = op == "remove"
    if attr in READ_ONLY:
        raise mutability(f"{attr} is read-only here; team membership changes through /Groups.")
    if attr == "active":
        if removing:
            raise invalid_value("active cannot be removed; replace it with false.")
        state["active"] = patch.boolean(value, "active")
    elif attr == "username":
        if removing:
            raise invalid_value("userName is required and cannot be removed.")
        state["userName"] = value
    elif attr == "externalid":
        state["externalId"] = "" if removing else value
    elif attr == "displayname":
        if not removing:
            _split_display(state, value)
    elif attr == "name" and sub in ("givenname", "familyname"):
        state["givenName" if sub == "givenname" else "familyName"] = "" if removing else value
    elif attr == "name" and not sub:
        if removing:
            state["givenName"] = state["familyName"] = ""
        elif isinstance(value, dict):
            for key, item in value.items():
                _assign(state, "name", str(key).lower(), item, op)
        else:
            raise invalid_value("name must be an object with givenName and familyName.")
    elif attr == "emails":
        # One address is kept, whatever the value filter names ([type eq "work"]...).
        state["email"] = "" if removing else (value if sub == "value" else _email_from(value))


def apply_operations(state: dict, operations: list[patch.Operation]) -> dict:
    for operation in operations:
        if operation.path is None:
            for key, value in patch.flatten_value_object(operation.value).items():
                attr, _, sub = key.partition(".")
                if attr not in ("id", "meta", "schemas"):
                    _assign(state, attr, sub, value, operation.op)
        else:
            path = operation.path
            _assign(state, path.attr, path.sub, operation.value, operation.op)
    return state


# --- writing ----------------------------------------------------------------------------


def _clean(state: dict) -> dict:
    clean = {
        "userName": text(state["userName"], "userName", limit=150, required=True),
        "givenName": text(state["givenName"], "name.givenName", limit=150),
        "familyName": text(state["familyName"], "name.familyName", limit=150),
        "email": text(state["email"], "emails.value", limit=254),
        "externalId": text(state["externalId"], "externalId", limit=255),
        "active": state["active"],
    }
    try:
        UnicodeUsernameValidator()(clean["userName"])
    except ValidationError:
        raise invalid_value(
            "userName may contain only letters, digits and @ . + - _ characters."
        ) from None
    if clean["email"]:
        try:
            validate_email(clean["email"])
        except ValidationError:
            raise invalid_value(f"{clean['email']!r} is not an e-mail address.") from None
    return clean


def _check_unique(username: str, user=None) -> None:
    # The column's unique index is case-sensitive: "Jo" and "jo" created at once would both
    # pass the check below. On PostgreSQL a transaction lock on the lower-cased name makes
    # the second request wait for the first, then see its row.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            key = f"scim-user:{username.lower()}"
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])
    clash = User.objects.filter(username__iexact=username)
    if user is not None:
        clash = clash.exclude(pk=user.pk)
    if clash.exists():
        raise uniqueness(f"userName {username!r} is already taken.")


def _audit(user, action: str, token, changes: dict) -> None:
    AuditEvent.record(
        app=None,
        actor=None,
        action=action,
        changes=changes,
        data={"user": user.get_username(), "user_id": user.pk, "via": "scim", "token": token.name},
    )


def _save(user, before: dict, after: dict, token, *, created: bool) -> None:
    changed = [column for key, column in USER_COLUMNS.items() if before.get(key) != after[key]]
    for key, column in USER_COLUMNS.items():
        setattr(user, column, after[key])
    try:
        with transaction.atomic():
            if created:
                user.set_unusable_password()
                user.save()
            elif changed:
                user.save(update_fields=changed)
    except IntegrityError:
        raise uniqueness(f"userName {after['userName']!r} is already taken.") from None
    if created or changed or before.get("externalId") != after["externalId"]:
        person = people.person_of(user)
        if created:
            person.source = Source.SCIM
        person.external_id = after["externalId"]
        person.save()  # touches updated_at: the version the directory sees moves on
        user.person = person
    if after["active"] != user.is_active:
        if after["active"]:
            people.reactivate(user)
        else:
            people.deactivate(user, actor=None, via=DeactivatedVia.SCIM)
        # The signal receivers saved the deactivation on their own copy of the record.
        user.person = people.person_of(user)
    differences = {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}
    if created:
        _audit(user, "scim_user_created", token, differences)
    elif differences:
        _audit(user, "scim_user_updated", token, differences)


@transaction.atomic
def create(body: dict, token):
    state = _clean(from_body(body, active_default=True))
    _check_unique(state["userName"])
    user = User(is_active=True)
    _save(user, {}, state, token, created=True)
    return user


@transaction.atomic
def update(user, state: dict, token) -> None:
    """Bring ``user`` to ``state`` (a PUT's body or the result of PATCH operations)."""
    before = state_of(user)
    after = _clean(state)
    if after["active"] is None:  # a PUT without active leaves the switch alone
        after["active"] = before["active"]
    if after["userName"].lower() != before["userName"].lower():
        _check_unique(after["userName"], user)
    _save(user, before, after, token, created=False)


def replacement(body: dict) -> dict:
    """A PUT body's state; without ``active`` the account stays as it is."""
    return from_body(body, active_default=None)


def retire(user, token) -> None:
    """DELETE never deletes: the account is switched off and its apps handed over."""
    update(user, {**state_of(user), "active": False}, token)
