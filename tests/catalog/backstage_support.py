"""Generated Backstage catalogs for the import limit and background job tests."""

from __future__ import annotations

IMPORT = "/api/v1/apps/import/"
JOBS = "/api/v1/backstage/imports/"


def component(name: str, owner: str = "support-tools", depends_on: str = "") -> str:
    deps = f", dependsOn: [component:{depends_on}]" if depends_on else ""
    return (
        "---\napiVersion: backstage.io/v1alpha1\nkind: Component\n"
        f"metadata: {{name: {name}, description: Generated {name}, tags: [generated]}}\n"
        f"spec: {{type: service, lifecycle: experimental, owner: {owner}{deps}}}\n"
    )


def components(count: int, prefix: str = "gen", owner: str = "support-tools") -> str:
    return "".join(component(f"{prefix}-{i}", owner) for i in range(count))


def resources(count: int) -> str:
    return "".join(
        f"---\napiVersion: backstage.io/v1alpha1\nkind: Resource\n"
        f"metadata: {{name: bucket-{i}}}\nspec: {{type: s3-bucket, owner: support-tools}}\n"
        for i in range(count)
    )


def post_yaml(client, text: str, query: str = ""):
    return client.post(f"{IMPORT}{query}", data=text, content_type="application/yaml")
