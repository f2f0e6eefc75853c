"""Browser forms of the registry: register and edit an app, one section at a time.

The form validates; ``catalog.services`` writes. The same form validates one field at a
time for the inline checks the register page runs as the user leaves a field, so the
rules a person sees while typing are the rules that apply on submit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse

from catalog import permissions, policies
from catalog.choices import ContractKind
from catalog.context_processors import policy_numbers
from catalog.contract_services import VERSION_LABEL_MESSAGE, VERSION_LABEL_PATTERN
from catalog.models import RESERVED_SLUGS, MicroApp, Region, Team

TAG_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")
MAX_TAGS = 20
# Slugs that would collide with pages under /apps/.


@dataclass(frozen=True)
class Section:
    """A titled group of fields; the template renders one fieldset per section."""

    key: str
    title: str
    help: str
    fields: tuple[str, ...]


def _well_formed_id(value) -> int | None:
    """``value`` as a primary key the database can compare, or None: past 64 bits SQLite
    raises OverflowError and PostgreSQL an error of its own, instead of finding nothing."""
    try:
        pk = int(str(value).strip())
    except ValueError:
        return None
    return pk if 0 < pk < 2**63 else None


class WellFormedIdsMixin:
    """Model choice fields whose posted ids are checked for shape before any query, so a
    malformed one is the field's "not a valid value" error rather than a crash."""

    def clean(self, value):
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item not in self.empty_values and _well_formed_id(item) is None:
                code = "invalid_pk_value" if isinstance(value, list | tuple) else "invalid_choice"
                raise forms.ValidationError(
                    self.error_messages[code],
                    code=code,
                    params={"pk": item, "value": item},
                )
        return super().clean(value)


class TeamChoiceField(WellFormedIdsMixin, forms.ModelChoiceField):
    pass


class RegionChoiceField(WellFormedIdsMixin, forms.ModelMultipleChoiceField):
    def label_from_instance(self, region: Region) -> str:
        flags = [region.get_jurisdiction_display()]
        if region.sovereign:
            flags.append("sovereign")
        if region.pci:
            flags.append("PCI")
        return f"{region.name} ({region.code}) · {' · '.join(flags)}"


class UserChoiceField(WellFormedIdsMixin, forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        full = user.get_full_name()
        return f"{full} ({user.get_username()})" if full else user.get_username()


class PeopleChoiceField(WellFormedIdsMixin, forms.ModelMultipleChoiceField):
    """Active people, several at once. Someone deactivated since the form was shown is
    named in the error rather than called "not one of the available choices"."""

    def label_from_instance(self, user) -> str:
        full = user.get_full_name()
        return f"{full} ({user.get_username()})" if full else user.get_username()

    def clean(self, value):
        ids = [pk for pk in map(_well_formed_id, value or []) if pk is not None]
        gone = get_user_model().objects.filter(pk__in=ids, is_active=False).order_by("username")
        if gone:
            raise forms.ValidationError(
                [f"{person.get_username()} is deactivated." for person in gone],
                code="deactivated",
            )
        return super().clean(value)


class AppChoiceField(WellFormedIdsMixin, forms.ModelMultipleChoiceField):
    def label_from_instance(self, app: MicroApp) -> str:
        return f"{app.name} ({app.slug})"


class AppPickerWidget(forms.CheckboxSelectMultiple):
    """The chosen apps as ticked boxes, and a search (``app-picker``, htmx) that adds more.

    A fleet has thousands of apps: listing every one as an option made the form page heavy
    and the list unusable. Only the chosen apps are rendered (one query); the field still
    validates against its whole queryset."""

    template_name = "catalog/widgets/app_picker.html"
    exclude_slug = ""  # the app being edited, which cannot depend on itself

    def optgroups(self, name, value, attrs=None):
        # A form shown again with its errors renders what was posted, which may be anything
        # ("ticket-router", "9" * 30): only well-formed ids are looked up, the rest were
        # already refused by the field's own validation.
        chosen = [pk for pk in map(_well_formed_id, value) if pk is not None]
        field = self.choices.field
        apps = field.queryset.filter(pk__in=chosen).select_related("team") if chosen else []
        groups = []
        for index, app in enumerate(apps):
            label = field.label_from_instance(app)
            option = self.create_option(name, app.pk, label, True, index, attrs=attrs)
            # One unnamed group per app, as CheckboxSelectMultiple.optgroups() makes them.
            groups.append((None, [option | {"app": app}], index))
        return groups

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        search = reverse("app-picker")
        if self.exclude_slug:
            search += "?" + urlencode({"exclude": self.exclude_slug})
        context["widget"]["search_url"] = search
        return context


class TagsField(forms.CharField):
    """Tags typed as ``billing, eu, beta``; stored as a list of short lowercase words."""

    def to_python(self, value) -> list[str]:
        if isinstance(value, list | tuple):
            value = ", ".join(value)
        text = super().to_python(value) or ""
        tags = [t.strip().lower() for t in re.split(r"[,\s]+", text) if t.strip()]
        return list(dict.fromkeys(tags))  # keep order, drop repeats

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        if len(value) > MAX_TAGS:
            raise forms.ValidationError(f"Use at most {MAX_TAGS} tags.")
        bad = [t for t in value if not TAG_RE.match(t)]
        if bad:
            raise forms.ValidationError(
                "Tags are lowercase words of up to 40 characters (letters, digits, . _ -); "
                f"check: {', '.join(bad)}."
            )


def criticality_help() -> str:
    """The expiry rule as the form states it, from the configured numbers (read per form,
    so a deployment's settings are what people are promised): ``MicroApp.next_expiry`` and
    the daily expiry sweep, which reminds but never suspends a critical app."""
    numbers = policy_numbers()
    return (
        f"Critical apps do not expire: they are re-certified every {numbers['recertify_every']}"
        " and, if overdue, their owners are reminded but the app stays live. Other apps "
        f"expire after {numbers['expiry']} unless renewed."
    )


class MicroAppForm(forms.ModelForm):
    """Register (``instance`` unsaved) or edit an app.

    ``user`` decides which teams the app may belong to: your own teams, or any team for the
    platform team. The slug is the app's permanent address, so editing shows it read-only.
    """

    SECTIONS = (
        Section(
            "basics",
            "Basics",
            "What the app is and where it runs.",
            (
                "name",
                "slug",
                "description",
                "kind",
                "runtime",
                "environment",
                "criticality",
                "tags",
            ),
        ),
        Section(
            "ownership",
            "Ownership",
            "Who answers for the app when something happens.",
            ("team", "owner", "co_owners", "contact"),
        ),
        Section(
            "sla",
            "Service level",
            "What users can expect. Production apps need all three.",
            ("sla_availability", "sla_p95_ms", "sla_support_hours"),
        ),
        Section(
            "data",
            "Data & regions",
            policies.PII_RESIDENCY_RULE,
            (
                "handles_pii",
                "handles_payment_data",
                "externally_exposed",
                "data_residency",
                "regions",
            ),
        ),
        Section(
            "links",
            "Links & dependencies",
            "Where people find the docs, the runbook and the code, and which apps this one calls.",
            ("docs_url", "runbook_url", "repository_url", "depends_on"),
        ),
        Section(
            "contract",
            "API contract",
            "Optional: the OpenAPI or GraphQL description of the app's API.",
            ("contract_kind", "contract_version", "contract_file", "contract_text"),
        ),
    )

    team = TeamChoiceField(queryset=Team.objects.none(), empty_label="Choose a team…")
    owner = UserChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="No personal owner (the team)",
        help_text="The person accountable for the app. Usually you. With no personal owner "
        "the team answers for it: its co-owners, else its lead, else its contact address "
        "get the owner's reminders.",
    )
    co_owners = PeopleChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        label="Co-owners",
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="People who share the owner's rights and duties; the first of them takes "
        "the app over if the owner leaves. Hold Ctrl (⌘ on a Mac) to choose several.",
    )
    regions = RegionChoiceField(
        queryset=Region.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Where the app runs and stores data.",
    )
    depends_on = AppChoiceField(
        queryset=MicroApp.objects.none(),
        required=False,
        widget=AppPickerWidget,
        label="Depends on",
        help_text="Apps this one calls: search by name or slug, then tick them.",
    )
    tags = TagsField(
        required=False, help_text="Comma-separated words, e.g. billing, eu, beta.", max_length=900
    )
    contract_kind = forms.ChoiceField(
        choices=ContractKind.choices,
        required=False,
        initial=ContractKind.OPENAPI,
        label="Contract type",
    )
    contract_version = forms.RegexField(
        regex=VERSION_LABEL_PATTERN,
        required=False,
        label="Version label",
        initial="1.0.0",
        error_messages={"invalid": VERSION_LABEL_MESSAGE},
    )
    contract_file = forms.FileField(
        required=False,
        label="Upload a file",
        help_text="openapi.yaml, openapi.json or schema.graphql, up to 10 MB.",
    )
    contract_text = forms.CharField(
        required=False,
        label="…or paste it",
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
    )

    CONTRACT_FIELDS = ("contract_kind", "contract_version", "contract_file", "contract_text")

    class Meta:
        model = MicroApp
        fields = [
            "name",
            "slug",
            "description",
            "kind",
            "runtime",
            "environment",
            "criticality",
            "tags",
            "team",
            "owner",
            "co_owners",
            "contact",
            "sla_availability",
            "sla_p95_ms",
            "sla_support_hours",
            "handles_pii",
            "handles_payment_data",
            "externally_exposed",
            "data_residency",
            "regions",
            "docs_url",
            "runbook_url",
            "repository_url",
            "depends_on",
        ]
        labels = {
            "slug": "Slug",
            "handles_pii": "Handles personal data (PII)",
            "handles_payment_data": "Handles payment card data",
            "externally_exposed": "Reachable from outside the company",
            "data_residency": "Data residency",
            "sla_availability": "Availability target (%)",
            "sla_p95_ms": "p95 latency target (ms)",
            "sla_support_hours": "Support hours",
            "docs_url": "Documentation URL",
            "runbook_url": "Runbook URL",
            "repository_url": "Repository URL",
        }
        help_texts = {
            "name": "A human name, e.g. Ticket Router.",
            "slug": "The app's permanent address: lowercase letters, digits and hyphens.",
            "description": "One or two sentences: what it does and for whom.",
            "runtime": "e.g. aws-lambda, k8s, cloudflare-worker, zapier.",
            "contact": "A chat channel or email people use to reach the owners.",
            "data_residency": "Where personal data must stay. Required if the app handles PII.",
            "sla_availability": "e.g. 99.5",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "sla_availability": forms.NumberInput(attrs={"step": "0.001", "min": 50, "max": 100}),
        }

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        editing = self.instance.pk is not None
        # Policy findings the app has before this edit (see _check_policies).
        self._regions_before = list(self.instance.regions.all()) if editing else []
        self._contract_ok = editing and policies.latest_contract_is_valid(self.instance)
        self._findings_before = (
            policies.evaluate_app(
                self.instance, regions=self._regions_before, has_valid_contract=self._contract_ok
            )
            if editing
            else []
        )
        if editing:
            # Contract versions are added on the app page, with their own history.
            for name in self.CONTRACT_FIELDS:
                del self.fields[name]
        teams = Team.objects.all()
        allowed = permissions.registrable_teams_filter(user)
        if allowed is not None:
            if editing:
                allowed |= Q(pk=self.instance.team_id)  # keep the current team selectable
            teams = teams.filter(allowed)
        self.fields["team"].queryset = teams
        self.fields["criticality"].help_text = criticality_help()
        people = get_user_model().objects.filter(is_active=True)
        self.fields["owner"].queryset = people
        self.fields["co_owners"].queryset = people.order_by("username")
        if not editing:
            self.initial.setdefault("owner", user.pk)
            mine = permissions.team_ids(user)
            if not self.initial.get("team") and len(mine) == 1:
                self.initial["team"] = next(iter(mine))
        dependencies = MicroApp.objects.visible_to(user).live().order_by("name")
        if editing:
            dependencies = dependencies.exclude(pk=self.instance.pk)
            # The slug is the app's permanent address: links and API clients use it.
            self.fields["slug"].disabled = True
            self.fields["slug"].help_text = "The slug is permanent: it is the app's address."
        self.fields["depends_on"].queryset = dependencies
        if editing:
            self.fields["depends_on"].widget.exclude_slug = self.instance.slug
        self.fields["data_residency"].choices = [("", "No personal data")] + list(
            self.fields["data_residency"].choices
        )[1:]
        self.fields["kind"].choices = [("", "Choose…")] + list(self.fields["kind"].choices)[1:]
        self.fields["sla_support_hours"].choices = [("", "Not declared yet")] + list(
            self.fields["sla_support_hours"].choices
        )[1:]

    # --- rules that span fields ------------------------------------------------------------

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if self.instance.pk is None and slug in RESERVED_SLUGS:
            raise forms.ValidationError(
                f"“{slug}” is reserved for a page of Appkeeper; pick another.", code="reserved"
            )
        if self.instance.pk is None and MicroApp.objects.filter(slug=slug).exists():
            raise forms.ValidationError(
                "Another app already uses this slug. Pick another, e.g. add your team's name.",
                code="unique",
            )
        return slug

    def clean_contract_file(self):
        upload = self.cleaned_data.get("contract_file")
        if upload is not None and upload.size > settings.APPKEEPER_CONTRACT_MAX_BYTES:
            raise forms.ValidationError("The contract file is larger than 10 MB.")
        return upload

    def clean(self) -> dict:
        data = super().clean()
        if data.get("contract_file") and data.get("contract_text", "").strip():
            self.add_error("contract_text", "Upload a file or paste the text, not both.")
        return data

    def _post_clean(self) -> None:
        super()._post_clean()  # builds the instance from the form and runs the model rules
        self._check_policies()

    def _check_policies(self) -> None:
        """Apply the policy rules that refuse a save (catalog.policies), as the services do.

        Running them here shows them inline, on the field to fix, as the person leaves a
        field: a PII app's regions must all be in its residency jurisdiction, payment data
        only in PCI regions, and so on. Like the service, a finding the app already had
        before this edit does not refuse it.
        """
        regions = self.cleaned_data.get("regions")
        if regions is None:  # the field itself failed; judge the regions it had
            regions = self._regions_before
        findings = policies.evaluate_app(
            self.instance, regions=regions, has_valid_contract=self._contract_ok
        )
        for name, messages in policies.save_errors(findings, before=self._findings_before).items():
            if name in self.fields:
                if not self.has_error(name):
                    self.add_error(name, messages)
            else:
                self.add_error(None, messages)

    # --- what the services receive --------------------------------------------------------

    def app_data(self) -> dict:
        """The cleaned values ``catalog.services.app_register``/``app_update`` expect."""
        data = {
            name: self.cleaned_data[name]
            for name in self.Meta.fields
            if name in self.cleaned_data and not self.fields[name].disabled
        }
        return data

    def contract_payload(self) -> dict | None:
        """The contract the user attached, or None when they attached nothing."""
        upload = self.cleaned_data.get("contract_file")
        text = (self.cleaned_data.get("contract_text") or "").strip()
        if upload is not None:
            raw = upload.read()
            text = raw.decode("utf-8", errors="replace")
        if not text:
            return None
        return {
            "kind": self.cleaned_data.get("contract_kind") or ContractKind.OPENAPI,
            "version": self.cleaned_data.get("contract_version") or "1.0.0",
            "text": text,
        }

    def sections(self) -> list[dict]:
        """Sections with their bound fields, for the template."""
        out = []
        for section in self.SECTIONS:
            fields = [self[name] for name in section.fields if name in self.fields]
            if fields:
                out.append({"section": section, "fields": fields})
        return out

    def related_fields(self, name: str) -> tuple[str, ...]:
        """Fields whose errors can change when ``name`` changes (re-rendered out of band)."""
        if name in policies.PII_RESIDENCY_FIELDS:
            return tuple(n for n in policies.PII_RESIDENCY_FIELDS if n != name)
        return ()
