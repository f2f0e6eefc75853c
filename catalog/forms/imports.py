"""The Backstage import page's form: catalog files (one or several) or pasted YAML, dry run
or not."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from catalog import permissions
from catalog.backstage.importer import TooManyEntities, check_size, scan_documents, upload_text
from catalog.models import Team
from contracts import DocumentTooLarge


class UnreadableFile(ValueError):
    """One of several uploaded files is not UTF-8 YAML; the message names the file."""


def read_uploads(uploads: Iterable) -> tuple[str, int]:
    """The uploaded files as one multi-document stream, and how many files it holds.

    The total size is checked before any file is read (413 over the limit). Each file is
    checked on its own so the error names the file that is wrong; the document separator
    between files keeps the last entity of one file from running into the first of the
    next (empty documents are dropped when the stream is parsed)."""
    uploads = list(uploads)
    check_size(sum(upload.size or 0 for upload in uploads))
    texts = []
    for upload in uploads:
        name = upload.name or "the file"
        try:
            text = upload_text(upload.read())
            scan_documents(text, limit=settings.APPKEEPER_BACKSTAGE_MAX_ENTITIES_BACKGROUND)
        except TooManyEntities:
            raise
        except ValueError as exc:
            raise UnreadableFile(f"{name}: {exc}") from None
        texts.append(text)
    return "\n---\n".join(texts), len(texts)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name, as Django's documentation shows it."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class BackstageImportForm(forms.Form):
    file = MultipleFileField(
        label="Upload catalog-info.yaml files",
        required=False,
        help_text="Backstage entities as multi-document YAML.",
    )
    text = forms.CharField(
        label="…or paste it",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
    )
    team = forms.ModelChoiceField(
        label="For team",
        queryset=Team.objects.none(),
        required=False,
        empty_label="Any team I may register apps for",
        help_text="Its members see this import too; Components of other teams are refused.",
    )
    dry_run = forms.BooleanField(
        label="Dry run: report what would happen, write nothing",
        required=False,
        initial=True,
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        teams = Team.objects.order_by("name")
        scope = permissions.registrable_teams_filter(user)
        self.fields["team"].queryset = teams if scope is None else teams.filter(scope)
        limit = filesizeformat(settings.APPKEEPER_BACKSTAGE_MAX_BYTES)
        self.fields["file"].help_text = (
            "One or several catalog-info.yaml files (Groups, Users, Components and APIs in "
            f"any order), imported together: up to {limit} and "
            f"{settings.APPKEEPER_BACKSTAGE_MAX_ENTITIES_BACKGROUND:,} entities in all."
        )

    def clean(self):
        data = super().clean()
        uploads, text = data.get("file") or [], data.get("text") or ""
        data["files"] = len(uploads)
        if not uploads and not text.strip():
            raise forms.ValidationError("Upload a catalog-info.yaml or paste it.")
        field = "file" if uploads else "text"
        try:
            if uploads:
                data["document"], data["files"] = read_uploads(uploads)
            else:
                data["document"] = upload_text(text)
        except DocumentTooLarge as exc:
            self.add_error(field, exc.errors[0]["message"])
        except TooManyEntities as exc:
            self.add_error(
                field,
                f"A file holds more than {exc.limit:,} entities, the most one import takes. "
                "Split the catalog into several imports.",
            )
        except ValueError as exc:
            self.add_error(field, str(exc))
        return data
