"""Admin for the platform team: find anything fast, change reference data, never delete apps."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from catalog import retirement, services, token_services
from catalog.models import (
    AuditEvent,
    Contract,
    MicroApp,
    Notification,
    Region,
    Review,
    Team,
)
from core.models import ApiToken


class NoDeleteMixin:
    """Apps and their history are retired, never deleted."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class TeamAdminForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = [
            "name",
            "slug",
            "cost_center",
            "contact_email",
            "chat_channel",
            "webhook_url",
            "webhook_secret",
            "members",
            "lead",
            "external_id",
        ]
        help_texts = {
            "lead": "Takes over an app whose owner leaves when the app has no active "
            "co-owner. Usually a member of the team.",
        }

    def clean_lead(self):
        lead = self.cleaned_data.get("lead")
        if lead is not None and not lead.is_active:
            raise forms.ValidationError(f"{lead.get_username()} is deactivated.")
        return lead


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamAdminForm
    list_display = ["name", "slug", "lead", "cost_center", "contact_email", "chat_channel"]
    list_select_related = ["lead"]
    search_fields = ["name", "slug", "cost_center", "contact_email"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]
    autocomplete_fields = ["lead"]

    def save_model(self, request, obj, form, change) -> None:
        """A changed lead goes through ``services.team_set_lead``, audited like the team
        page's and the API's; the admin's change view already runs in a transaction."""
        if not (change and "lead" in form.changed_data):
            super().save_model(request, obj, form, change)
            return
        lead = obj.lead
        obj.lead_id = form.initial.get("lead")  # saved as it was; the service changes it
        super().save_model(request, obj, form, change)
        services.team_set_lead(team=obj, lead=lead, actor=request.user)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "jurisdiction", "sovereign", "pci"]
    list_filter = ["jurisdiction", "sovereign", "pci"]
    search_fields = ["code", "name"]


class AuditEventInline(admin.TabularInline):
    model = AuditEvent
    fields = ["at", "action", "actor", "changes", "comment", "request_id"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-at"]
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MicroApp)
class MicroAppAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "team",
        "owner",
        "state",
        "risk_badge",
        "environment",
        "criticality",
        "expires_at",
        "last_seen_at",
    ]
    list_filter = [
        "state",
        "team",
        "environment",
        "criticality",
        "kind",
        "handles_pii",
        "handles_payment_data",
        "externally_exposed",
        "regions",
    ]
    search_fields = ["name", "slug", "description", "owner__username", "team__name"]
    list_select_related = ["team", "owner"]
    autocomplete_fields = ["owner", "co_owners", "team", "depends_on"]
    filter_horizontal = ["regions"]
    readonly_fields = [
        "orphaned_at",
        "state",
        "went_live_at",
        "expires_at",
        "last_seen_at",
        "retired_at",
        "retired_reason",
        "created_at",
        "updated_at",
    ]
    date_hierarchy = "created_at"
    inlines = [AuditEventInline]
    actions = ["retire_selected"]

    @admin.display(description="risk")
    def risk_badge(self, obj: MicroApp) -> str:
        return obj.get_risk_display() if hasattr(obj, "get_risk_display") else obj.risk

    def save_model(self, request, obj, form, change):
        # The admin's change view already runs in one transaction; the audit event is
        # written in save_related, once the many-to-many fields are saved too.
        obj._audit_before = MicroApp.objects.get(pk=obj.pk).audit_snapshot() if change else None
        if obj.orphaned_at is not None and "owner" in form.changed_data:
            obj.orphaned_at = None  # given an owner: not orphaned any more
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.app_record_change(
            app=form.instance, actor=request.user, before=form.instance._audit_before
        )

    @admin.action(description="Retire selected apps (keeps all data)")
    def retire_selected(self, request, queryset):
        apps = list(queryset.live())
        # A bulk action cannot ask to confirm each app's dependents: those are retired
        # from their own page, which lists them.
        called = retirement.live_dependents_by_provider(app.pk for app in apps)
        count = 0
        for app in apps:
            if app.pk in called:
                continue
            services.app_retire(app=app, actor=request.user, reason="Retired from the admin.")
            count += 1
        self.message_user(request, f"Retired {count} app(s).", messages.SUCCESS)
        skipped = [app.name for app in apps if app.pk in called]
        if skipped:
            self.message_user(
                request,
                f"Not retired, because live apps call them: {', '.join(skipped)}. Retire "
                "each from its page in the catalog, which lists the apps to confirm.",
                messages.WARNING,
            )


@admin.register(AuditEvent)
class AuditEventAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["at", "app", "action", "actor", "request_id"]
    list_filter = ["action"]
    search_fields = ["app__slug", "actor__username", "request_id", "comment"]
    list_select_related = ["app", "actor"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Contract)
class ContractAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = [
        "app",
        "version",
        "kind",
        "spec_version",
        "is_valid",
        "breaking",
        "created_at",
        "effective_at",
    ]
    list_filter = ["kind", "is_valid", "breaking"]
    search_fields = ["app__slug", "version", "sha256"]
    list_select_related = ["app"]
    readonly_fields = [f.name for f in Contract._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["app", "requested_at", "due_at", "decision", "reviewer", "escalated_at"]
    list_filter = ["decision"]
    search_fields = ["app__slug", "comment"]
    list_select_related = ["app", "reviewer"]
    readonly_fields = [f.name for f in Review._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "channel", "recipient", "app", "sent_at", "attempts"]
    list_filter = ["kind", "channel"]
    search_fields = ["subject", "dedupe_key", "recipient__username", "app__slug"]
    list_select_related = ["recipient", "app"]
    readonly_fields = [f.name for f in Notification._meta.fields]


@admin.register(ApiToken)
class ApiTokenAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Tokens are issued by their owners (page, API, ``issue_token``), whose value only they
    see; here they are found and revoked. Only a hash is stored, and it is not shown."""

    list_display = [
        "name",
        "user",
        "prefix",
        "created",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "state",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    date_hierarchy = "created"
    fields = ["user", "name", "prefix", "created", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke_selected"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="state")
    def state(self, obj: ApiToken) -> str:
        return ApiToken.State(obj.state).label

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_selected(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            token_services.token_revoke(token=token, actor=request.user)
            count += 1
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)
