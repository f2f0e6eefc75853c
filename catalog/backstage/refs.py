"""Entity references as Backstage reads them: ``[kind:][namespace/]name``.

A reference inside an entity's spec takes its kind from the field (``spec.owner`` means a
group, ``dependsOn`` a component) and its namespace from the entity that holds it, so
``dependsOn: [billing]`` in namespace ``payments`` is ``component:payments/billing``.
Backstage compares references without regard to case; the stored form is lower case and
the entity keeps its own spelling in its document.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_NAMESPACE = "default"


class RefError(ValueError):
    """Not an entity reference (empty, or more than one ``:`` or ``/``)."""


@dataclass(frozen=True)
class EntityRef:
    kind: str
    namespace: str
    name: str

    @classmethod
    def parse(
        cls, text: object, *, default_kind: str = "", default_namespace: str = DEFAULT_NAMESPACE
    ) -> EntityRef:
        raw = str(text).strip() if text is not None else ""
        kind, rest = raw.split(":", 1) if ":" in raw else (default_kind, raw)
        namespace, name = rest.split("/", 1) if "/" in rest else (default_namespace, rest)
        if not kind or not name or "/" in name or ":" in name or not namespace:
            raise RefError(f"{raw!r} is not an entity reference ([kind:][namespace/]name).")
        return cls(kind.strip().lower(), namespace.strip().lower(), name.strip())

    @classmethod
    def of(cls, entity: dict) -> EntityRef:
        """The reference of an entity document (its kind, namespace and name)."""
        metadata = entity.get("metadata") or {}
        return cls.parse(
            f"{entity.get('kind', '')}:{metadata.get('namespace') or DEFAULT_NAMESPACE}"
            f"/{metadata.get('name', '')}"
        )

    @property
    def key(self) -> str:
        """The stored, case-folded form: ``component:default/billing``."""
        return f"{self.kind}:{self.namespace}/{self.name.lower()}"

    def __str__(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}"

    def short(self, *, default_kind: str) -> str:
        """The shortest form Backstage reads back to this reference from an entity in the
        default namespace: ``group:team-a`` drops what defaults, never what does not."""
        text = self.name if self.namespace == DEFAULT_NAMESPACE else f"{self.namespace}/{self.name}"
        return text if self.kind == default_kind else f"{self.kind}:{text}"
