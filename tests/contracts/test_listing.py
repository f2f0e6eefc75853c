"""The operations a contract offers, as a dependent names the ones it calls."""

from __future__ import annotations

from contracts.listing import MAX_OPERATIONS, graphql_operations, openapi_operations


def test_openapi_operations_in_document_order_with_referenced_path_items():
    document = {
        "openapi": "3.1.0",
        "paths": {
            "/tickets": {"get": {}, "post": {}, "parameters": [], "summary": "Tickets"},
            "/tickets/{id}": {"$ref": "#/components/pathItems/ticket"},
            "/broken": "not a path item",
        },
        "components": {"pathItems": {"ticket": {"get": {}, "delete": {}}}},
    }

    assert openapi_operations(document) == [
        "GET /tickets",
        "POST /tickets",
        "GET /tickets/{id}",
        "DELETE /tickets/{id}",
    ]
    assert openapi_operations({"swagger": "2.0"}) == []


def test_a_huge_contract_offers_a_bounded_list():
    document = {"paths": {f"/r{n}": {"get": {}, "put": {}} for n in range(MAX_OPERATIONS)}}
    assert len(openapi_operations(document)) == MAX_OPERATIONS


def test_graphql_root_fields_and_an_unbuildable_schema():
    sdl = """
    schema { query: Root mutation: Change }
    type Root { tickets: [Ticket] ticket(id: ID!): Ticket }
    type Change { close(id: ID!): Ticket }
    type Ticket { id: ID! }
    """
    assert graphql_operations(sdl) == ["Root.tickets", "Root.ticket", "Change.close"]
    assert graphql_operations("type Query {") == []
    assert graphql_operations("") == []
