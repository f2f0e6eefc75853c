"""The Backstage import page's form: a catalog-info.yaml as a file or pasted, dry run or not."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from catalog import permissions
from catalog.backstage.importer import upload_text
from catalog.models import Team
from contracts import DocumentTooLarge


class BackstageImportForm(forms.Form):
    file = forms.FileField(
        label="Upload catalog-info.yaml",
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
            f"Backstage entities as multi-document YAML, up to {limit} and "
            f"{settings.APPKEEPER_BACKSTAGE_MAX_ENTITIES_BACKGROUND:,} entities."
        )

    def clean(self):
        data = super().clean()
        upload, text = data.get("file"), data.get("text") or ""
        if not upload and not text.strip():
            raise forms.ValidationError("Upload a catalog-info.yaml or paste it.")
        try:
            data["document"] = upload_text(upload.read() if upload else text)
        except DocumentTooLarge as exc:
            self.add_error("file" if upload else "text", exc.errors[0]["message"])
        except ValueError as exc:
            self.add_error("file" if upload else "text", str(exc))
        return data
