"""GraphQL diff: graphql-core's breaking changes are ERR, dangerous ones WARN."""

from __future__ import annotations

from contracts import diff_contracts, is_compatible

OLD = """
type Query { user(id: ID!): User, users: [User] }
type User { id: ID!, name: String, role: Role }
enum Role { ADMIN USER }
"""


def _ids(changes: list[dict]) -> dict[str, str]:
    return {c["id"]: c["level"] for c in changes}


def test_field_removed_is_breaking() -> None:
    new = OLD.replace("name: String, ", "")
    changes = diff_contracts(OLD, new, "graphql")
    assert _ids(changes) == {"graphql-field-removed": "ERR"}
    assert changes[0]["path"] == "User.name"
    assert not is_compatible(changes)


def test_enum_value_added_is_dangerous() -> None:
    changes = diff_contracts(OLD, OLD.replace("ADMIN USER", "ADMIN USER GUEST"), "graphql")
    assert _ids(changes) == {"graphql-value-added-to-enum": "WARN"}
    assert is_compatible(changes)


def test_required_argument_added_and_type_removed() -> None:
    new = """
    type Query { user(id: ID!, org: ID!): User, users: [User] }
    type User { id: ID!, name: String, role: String }
    """
    ids = _ids(diff_contracts(OLD, new, "graphql"))
    assert ids["graphql-required-arg-added"] == "ERR"
    assert ids["graphql-type-removed"] == "ERR"
    assert ids["graphql-field-changed-kind"] == "ERR"


def test_whitespace_only_change_is_no_change() -> None:
    assert diff_contracts(OLD, OLD.replace(" ", "  "), "graphql") == []
