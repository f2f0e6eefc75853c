"""Relations between Backstage entities become links between apps whichever side arrives
first, follow the file on every sync, and never touch what was declared in Appkeeper."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.backstage.importer import EntityResult
from catalog.backstage.relations import api_stored, app_registered, component_written
from catalog.backstage.store import store_entity
from catalog.models import BackstageEntity, BackstageRelation, Contract, Dependency, MicroApp
from contracts import load_yaml
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.django_db

PETSTORE = Path(__file__).resolve().parents[1] / "data" / "backstage" / "backstage-petstore.yaml"
PETSTORE_API = next(
    doc for doc in load_yaml(PETSTORE.read_text(), multi=True) if doc["kind"] == "API"
)
PETSTORE_DEFINITION = PETSTORE_API["spec"]["definition"]
BROKEN_DEFINITION = "openapi: 3.0.3\ninfo: {title: Broken}\npaths: {}\n"


def component_doc(name: str, namespace: str = "", **spec) -> dict:
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": metadata,
        "spec": {"type": "service", "lifecycle": "experimental", "owner": "support-tools", **spec},
    }


def write_component(user, name: str, namespace: str = "", dry_run: bool = False, **spec):
    """Store a Component as the engine does, give it its app (the first time), then follow
    its relations; returns the app and the entity's result."""
    entity, _ = store_entity(component_doc(name, namespace, **spec))
    if entity.app is None:
        slug = f"{namespace}-{name}" if namespace else name
        entity.app = MicroAppFactory(slug=slug, team=user.appkeeper_teams.first(), owner=user)
        entity.save(update_fields=["app"])
    result = EntityResult("Component", name)
    component_written(entity.app, entity, result, user=user, dry_run=dry_run)
    return entity.app, result


def write_api(user, name: str = "petstore", definition: str = PETSTORE_DEFINITION, **changes):
    document = {
        **PETSTORE_API,
        "metadata": {**PETSTORE_API["metadata"], "name": name, **changes.pop("metadata", {})},
        "spec": {**PETSTORE_API["spec"], **changes},
    }
    document["spec"].pop("definition", None)
    entity, changed = store_entity(document, definition=definition)
    result = EntityResult("API", name, action="created" if changed else "unchanged")
    api_stored(entity, result, user=user, dry_run=changes.get("dry_run", False))
    return entity, result


def links(app: MicroApp) -> dict[str, str]:
    return {
        link.to_microapp.slug: link.origin
        for link in Dependency.objects.filter(from_microapp=app).select_related("to_microapp")
    }


# --- dependsOn --------------------------------------------------------------------------------


def test_depends_on_a_component_already_imported_links_it(alice):
    ledger, _ = write_component(alice, "ledger")
    checkout, result = write_component(alice, "checkout", dependsOn=["component:ledger"])

    assert links(checkout) == {"ledger": "backstage"}
    assert result.warnings == []
    assert BackstageRelation.objects.filter(
        entity__app=checkout, type="dependsOn", target_ref="component:default/ledger"
    ).exists()


def test_depends_on_a_component_not_yet_imported_links_it_when_it_arrives(alice):
    checkout, result = write_component(alice, "checkout", dependsOn=["ledger"])

    assert links(checkout) == {}
    assert result.warnings == [
        "dependsOn component:default/ledger: not in the catalog yet; linked as soon as it arrives."
    ]

    # Whatever is imported next: the target's own arrival makes the link.
    write_component(alice, "ledger")

    assert links(checkout) == {"ledger": "backstage"}


def test_depends_on_an_app_registered_in_appkeeper_links_it(alice):
    MicroAppFactory(slug="ledger", team=alice.appkeeper_teams.first(), owner=alice)

    checkout, result = write_component(alice, "checkout", dependsOn=["ledger"])

    assert links(checkout) == {"ledger": "backstage"}
    assert result.warnings == []


def test_another_teams_draft_is_not_revealed_as_a_target(alice, carol):
    MicroAppFactory(
        slug="secret-draft", team=carol.appkeeper_teams.first(), owner=carol, state="draft"
    )

    checkout, result = write_component(alice, "checkout", dependsOn=["secret-draft"])

    assert links(checkout) == {}
    assert "not in the catalog yet" in result.warnings[0]


def test_a_resync_removes_the_links_the_file_no_longer_lists(alice):
    write_component(alice, "ledger")
    write_component(alice, "search")
    checkout, _ = write_component(alice, "checkout", dependsOn=["ledger", "search"])
    assert links(checkout) == {"ledger": "backstage", "search": "backstage"}

    write_component(alice, "checkout", dependsOn=["ledger"])

    assert links(checkout) == {"ledger": "backstage"}
    assert set(
        BackstageRelation.objects.filter(entity__app=checkout).values_list("target_ref", flat=True)
    ) == {"component:default/ledger"}


def test_a_link_declared_in_appkeeper_survives_a_resync_and_keeps_its_origin(alice):
    ledger, _ = write_component(alice, "ledger")
    search, _ = write_component(alice, "search")
    checkout, _ = write_component(alice, "checkout")
    Dependency.objects.create(from_microapp=checkout, to_microapp=ledger, origin="appkeeper")
    Dependency.objects.create(from_microapp=checkout, to_microapp=search, origin="appkeeper")

    write_component(alice, "checkout", dependsOn=["ledger"])
    write_component(alice, "checkout", dependsOn=[])

    assert links(checkout) == {"ledger": "appkeeper", "search": "appkeeper"}


def test_resources_stay_relations_quietly_and_other_kinds_get_one_line(alice):
    checkout, result = write_component(
        alice,
        "checkout",
        dependsOn=["resource:orders-db", "resource:cache", "system:payments", "domain:retail"],
    )

    assert links(checkout) == {}
    assert result.warnings == [
        "dependsOn system:default/payments, domain:default/retail: kept as Backstage "
        "relations; only Components become dependencies."
    ]
    assert BackstageRelation.objects.filter(entity__app=checkout, type="dependsOn").count() == 4


def test_a_malformed_reference_is_reported_and_the_others_kept(alice):
    write_component(alice, "ledger")
    checkout, result = write_component(alice, "checkout", dependsOn=["a:b:c", "ledger"])

    assert links(checkout) == {"ledger": "backstage"}
    assert result.warnings == [
        "spec.dependsOn: 'a:b:c' is not an entity reference ([kind:][namespace/]name)."
    ]


def test_a_self_reference_is_not_a_link(alice):
    checkout, _ = write_component(alice, "checkout", dependsOn=["checkout"])

    assert links(checkout) == {}


# --- namespaces -------------------------------------------------------------------------------


def test_references_resolve_in_the_entitys_own_namespace(alice):
    finance_billing, _ = write_component(alice, "billing", namespace="finance")
    payments_billing, _ = write_component(alice, "billing", namespace="payments")

    checkout, _ = write_component(alice, "checkout", namespace="payments", dependsOn=["billing"])
    report, _ = write_component(alice, "report", dependsOn=["finance/billing"])
    stray, result = write_component(alice, "stray", dependsOn=["billing"])

    assert links(checkout) == {"payments-billing": "backstage"}
    assert links(report) == {"finance-billing": "backstage"}
    # component:default/billing is neither of them.
    assert links(stray) == {}
    assert "component:default/billing: not in the catalog yet" in result.warnings[0]


def test_a_namespaced_target_arriving_later_links_only_its_own_dependents(alice):
    checkout, _ = write_component(alice, "checkout", namespace="payments", dependsOn=["billing"])
    stray, _ = write_component(alice, "stray", dependsOn=["billing"])

    write_component(alice, "billing", namespace="payments")

    assert links(checkout) == {"payments-billing": "backstage"}
    assert links(stray) == {}


# --- APIs across files ------------------------------------------------------------------------


def test_an_api_stored_before_its_provider_is_attached_when_the_provider_arrives(alice):
    _, api_result = write_api(alice)

    assert api_result.action == "created"
    assert api_result.warnings == ["No Component provides it yet; attached when one does."]
    assert not Contract.objects.exists()

    shop, result = write_component(alice, "shop", providesApis=["petstore"])

    contract = Contract.objects.get(app=shop)
    assert contract.kind == "openapi"
    assert result.warnings == []

    # Unchanged on the next sync: the identical definition is not stored again.
    write_component(alice, "shop", providesApis=["petstore"])
    assert Contract.objects.filter(app=shop).count() == 1


def test_an_api_stored_after_its_provider_attaches_at_once(alice):
    shop, _ = write_component(alice, "shop", providesApis=["petstore"])

    _, result = write_api(alice, metadata={"annotations": {"appkeeper.io/version": "1.0.0"}})

    assert result.action == "created"
    assert result.errors == [] and result.warnings == []
    assert Contract.objects.get(app=shop).version == "1.0.0"

    _, again = write_api(alice, metadata={"annotations": {"appkeeper.io/version": "1.0.0"}})
    assert again.action == "unchanged"
    assert Contract.objects.filter(app=shop).count() == 1


def test_an_api_without_a_declared_provider_goes_to_the_component_of_its_name(alice):
    petstore, _ = write_component(alice, "petstore")

    _, result = write_api(alice)

    assert result.action == "created"
    assert Contract.objects.filter(app=petstore).count() == 1


def test_an_invalid_definition_is_the_apis_error_and_the_components_warning(alice):
    _, api_result = write_api(alice, definition=BROKEN_DEFINITION)
    assert api_result.action == "error"
    assert api_result.errors

    shop, result = write_component(alice, "shop", providesApis=["petstore"])

    assert not Contract.objects.exists()
    assert result.errors == []
    assert result.warnings[0].startswith("API api:default/petstore not attached: ")


def test_an_api_of_another_type_is_kept_but_not_checked(alice):
    write_component(alice, "shop", providesApis=["events"])

    entity, result = write_api(alice, "events", definition="asyncapi: 2.6.0", type="asyncapi")

    assert result.action == "skipped"
    assert result.warnings == ["API type asyncapi is kept but not checked."]
    assert BackstageEntity.objects.get(ref="api:default/events").definition == "asyncapi: 2.6.0"
    assert not Contract.objects.exists()


def test_a_provider_the_importer_may_not_edit_is_left_alone(alice, carol):
    entity, _ = store_entity(component_doc("shop", providesApis=["petstore"]))
    entity.app = MicroAppFactory(slug="shop", team=carol.appkeeper_teams.first(), owner=carol)
    entity.save(update_fields=["app"])
    component_written(
        entity.app, entity, EntityResult("Component", "shop"), user=carol, dry_run=False
    )

    _, result = write_api(alice)

    assert result.warnings == ["Not attached to shop: you may not edit that app."]
    assert not Contract.objects.exists()


def test_a_dry_run_reports_the_upload_without_storing_it(alice):
    write_component(alice, "shop", providesApis=["petstore"])
    entity, _ = store_entity({**PETSTORE_API})

    result = EntityResult("API", "petstore")
    api_stored(entity, result, user=alice, dry_run=True)
    assert result.action == "created"
    assert not Contract.objects.exists()

    broken, _ = store_entity(PETSTORE_API, definition=BROKEN_DEFINITION)
    failed = EntityResult("API", "petstore")
    api_stored(broken, failed, user=alice, dry_run=True)
    assert failed.action == "error"


# --- consumesApis -----------------------------------------------------------------------------


def test_consumes_apis_links_the_provider_when_the_consumer_arrives_second(alice):
    write_component(alice, "shop", providesApis=["petstore"])

    storefront, result = write_component(alice, "storefront", consumesApis=["petstore"])

    assert links(storefront) == {"shop": "backstage"}
    assert result.warnings == []


def test_consumes_apis_links_the_provider_when_the_provider_arrives_second(alice):
    storefront, _ = write_component(alice, "storefront", consumesApis=["petstore"])
    assert links(storefront) == {}

    write_component(alice, "shop", providesApis=["petstore"])

    assert links(storefront) == {"shop": "backstage"}


def test_consumes_apis_links_the_namesake_provider_when_the_api_entity_arrives(alice):
    storefront, _ = write_component(alice, "storefront", consumesApis=["petstore"])
    write_component(alice, "petstore")

    write_api(alice)

    assert links(storefront) == {"petstore": "backstage"}


def test_a_provider_that_stops_providing_loses_its_consumers_links(alice):
    shop, _ = write_component(alice, "shop", providesApis=["petstore"])
    storefront, _ = write_component(alice, "storefront", consumesApis=["petstore"])
    assert links(storefront) == {"shop": "backstage"}

    write_component(alice, "shop", providesApis=[])

    assert links(storefront) == {}


def test_a_consumer_that_stops_consuming_loses_the_link(alice):
    write_component(alice, "shop", providesApis=["petstore"])
    storefront, _ = write_component(alice, "storefront", consumesApis=["petstore"])

    write_component(alice, "storefront")

    assert links(storefront) == {}


# --- apps registered in Appkeeper -------------------------------------------------------------


def test_an_app_registered_through_the_api_picks_up_a_waiting_depends_on(api_as, alice, regions):
    from tests.catalog.test_api import payload

    checkout, _ = write_component(alice, "checkout", dependsOn=["ticket-router"])

    response = api_as(alice).post("/api/v1/apps/", payload(), format="json")

    assert response.status_code == 201, response.json()
    assert links(checkout) == {"ticket-router": "backstage"}


def test_app_registered_ignores_references_to_other_namespaces(alice):
    checkout, _ = write_component(alice, "checkout", dependsOn=["payments/ledger"])

    app_registered(MicroAppFactory(slug="ledger", team=alice.appkeeper_teams.first(), owner=alice))

    assert links(checkout) == {}


# --- budgets ----------------------------------------------------------------------------------


def waiting_fleet(user, count: int) -> None:
    """``count`` Components waiting for ``ledger`` and consuming its API, and as many
    unrelated apps."""
    for index in range(count):
        write_component(user, f"dependent-{index}", dependsOn=["ledger"], consumesApis=["books"])
        MicroAppFactory(slug=f"unrelated-{index}", team=user.appkeeper_teams.first(), owner=user)


@pytest.mark.parametrize("count", [2, 20])
def test_component_written_query_count_does_not_grow_with_the_catalog(
    alice, count, django_assert_max_num_queries
):
    waiting_fleet(alice, count)
    entity, _ = store_entity(
        component_doc("ledger", dependsOn=["search", "resource:db"], providesApis=["books"])
    )
    entity.app = MicroAppFactory(slug="ledger", team=alice.appkeeper_teams.first(), owner=alice)
    entity.save(update_fields=["app"])

    with django_assert_max_num_queries(15):
        component_written(
            entity.app, entity, EntityResult("Component", "ledger"), user=alice, dry_run=False
        )

    assert Dependency.objects.filter(to_microapp=entity.app).count() == count


@pytest.mark.parametrize("count", [2, 20])
def test_api_stored_and_app_registered_query_counts_do_not_grow_with_the_catalog(
    alice, count, django_assert_max_num_queries
):
    waiting_fleet(alice, count)
    write_component(alice, "shop", providesApis=["books"])
    entity, _ = store_entity({**PETSTORE_API, "metadata": {"name": "books"}})

    # One provider: reading, validating and storing its contract, whatever the consumers.
    with django_assert_max_num_queries(16):
        api_stored(entity, EntityResult("API", "books"), user=alice, dry_run=False)
    ledger = MicroAppFactory(slug="ledger", team=alice.appkeeper_teams.first(), owner=alice)
    with django_assert_max_num_queries(2):
        app_registered(ledger)

    assert Dependency.objects.filter(to_microapp=ledger).count() == count
