"""The contract upload form of the app page: a file or pasted text."""

from __future__ import annotations

from django import forms
from django.conf import settings

from catalog.choices import ContractKind
from catalog.contract_services import VERSION_LABEL_MESSAGE, VERSION_LABEL_PATTERN
from catalog.models import FREE_TEXT_MAX


class ContractUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind",
        choices=[("", "Detect from the document"), *ContractKind.choices],
        required=False,
    )
    version = forms.RegexField(
        label="Version label",
        regex=VERSION_LABEL_PATTERN,
        required=False,
        help_text="Optional; defaults to info.version of an OpenAPI document.",
        error_messages={"invalid": VERSION_LABEL_MESSAGE},
    )
    file = forms.FileField(
        label="Upload a file",
        required=False,
        help_text="OpenAPI/Swagger as JSON or YAML, or GraphQL SDL.",
    )
    text = forms.CharField(
        label="…or paste it",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
    )

    def clean(self):
        data = super().clean()
        upload, text = data.get("file"), (data.get("text") or "").strip()
        if not upload and not text:
            raise forms.ValidationError("Upload a file or paste the document.")
        if upload and upload.size > settings.APPKEEPER_CONTRACT_MAX_BYTES:
            self.add_error("file", "The file is over 10 MB.")
        return data

    def document(self) -> bytes | str:
        upload = self.cleaned_data.get("file")
        return upload.read() if upload else self.cleaned_data["text"]


class ContractConfirmForm(ContractUploadForm):
    """The review step: the same document (carried as text), and when it takes effect."""

    effective_at = forms.DateTimeField(
        label="Takes effect",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Leave empty to make it current at once.",
    )
    override_reason = forms.CharField(
        label="Override the migration window",
        required=False,
        max_length=FREE_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Platform team: why these breaking changes cannot wait. Recorded on the "
        "version and in the notices.",
    )


class AcknowledgeForm(forms.Form):
    """A dependent's owners acknowledging a breaking version, from its page."""

    app = forms.SlugField(widget=forms.HiddenInput)
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=FREE_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional: your plan, e.g. the release that moves off the old operations.",
    )


class WithdrawForm(forms.Form):
    """Withdraw a scheduled version, from its page."""

    reason = forms.CharField(
        label="Why withdraw it",
        max_length=FREE_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required; the owners of the apps that were told about it read this.",
    )


class RescheduleForm(forms.Form):
    """Move a scheduled version's date, from its page."""

    effective_at = forms.DateTimeField(
        label="New date",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Later is always allowed; earlier must leave the dependents the full "
        "migration window from their notice.",
    )
    override_reason = forms.CharField(
        label="Override the migration window",
        required=False,
        max_length=FREE_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Platform team: why it cannot wait the full window.",
    )
