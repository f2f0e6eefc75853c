"""What Backstage accepts as a name, a tag or a reference, and how Appkeeper's own values are
made to fit when it generates an entity.

The rules are those of ``@backstage/catalog-model`` (``KubernetesValidatorFunctions`` and
``CommonValidatorFunctions``, applied by ``FieldFormatEntityPolicy``); the tests check the
exports with that package itself. Conversions are deterministic, so exporting twice gives
the same names, and a shortened name carries a hash of the full value so two long slugs
that share a prefix never collide.
"""

from __future__ import annotations

import hashlib
import re

from catalog.backstage.refs import DEFAULT_NAMESPACE, EntityRef

NAME_MAX = 63
TAG_MAX = 63
NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
TAG_RE = re.compile(r"^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$")
HASH_LENGTH = 8


def valid_name(name: str) -> bool:
    return len(name) <= NAME_MAX and bool(NAME_RE.match(name))


def valid_tag(tag: str) -> bool:
    return len(tag) <= TAG_MAX and bool(TAG_RE.match(tag))


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


def entity_name(value: str) -> str:
    """``value`` as a Backstage ``metadata.name``: unchanged when valid, otherwise the
    characters Backstage refuses become ``-`` and a name over 63 characters is cut, with a
    hash of the whole value appended so the result stays unique."""
    if valid_name(value):
        return value
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", value).strip("-_.")
    head = cleaned[: NAME_MAX - HASH_LENGTH - 1].rstrip("-_.")
    suffix = _short_hash(value)
    return f"{head}-{suffix}" if head else suffix


def tag(value: str) -> str:
    """An Appkeeper tag as a Backstage tag (``python3.11`` → ``python3-11``); empty when
    nothing of it is left."""
    lowered = re.sub(r"[^a-z0-9:+#]+", "-", str(value).lower()).strip("-")
    if len(lowered) > TAG_MAX:
        lowered = lowered[: TAG_MAX - HASH_LENGTH - 1].rstrip("-") + "-" + _short_hash(value)
    return lowered


def tags(values: list[str]) -> list[str]:
    """Converted tags, each once, in their order."""
    out: list[str] = []
    for value in values:
        converted = tag(value)
        if converted and converted not in out:
            out.append(converted)
    return out


def ref_text(ref: EntityRef, *, default_kind: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """``ref`` as written in an entity of ``namespace``: Backstage reads a reference without
    a namespace in the namespace of the entity holding it, so only that one is dropped."""
    text = ref.name if ref.namespace == namespace.lower() else f"{ref.namespace}/{ref.name}"
    return text if ref.kind == default_kind else f"{ref.kind}:{text}"
