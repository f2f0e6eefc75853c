"""The team pages: every team with its lead and how many apps it answers for, one team's
people and apps, and for the platform team the form naming its lead. The API's
``/api/v1/teams/`` reads and writes the same facts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from catalog import permissions, services
from catalog.choices import AppState
from catalog.forms.teams import TeamChatForm, TeamLeadForm
from catalog.models import MicroApp, Team
from core.panels import NavEntry, register_nav


def register() -> None:
    """Called from ``CatalogConfig.ready()``: "Teams" in the nav, after the catalog."""
    register_nav(
        NavEntry(label="Teams", url_name="team-list", visible=permissions.can_view_teams, order=5)
    )


def _visible_live_apps(user, prefix: str = "") -> Q:
    """Live apps ``user`` may see (other teams' drafts are not counted), as a filter."""
    live = ~Q(**{f"{prefix}state": AppState.RETIRED})
    visible = permissions.visible_apps_filter(user, prefix)
    return live if visible is None else live & visible


@login_required
@require_safe
def team_list(request: HttpRequest) -> HttpResponse:
    """Every team, its lead and counts: two queries (the session's user aside) however
    many teams."""
    if not permissions.can_view_teams(request.user):
        raise PermissionDenied("Sign in to see teams.")
    live = _visible_live_apps(request.user, "apps__")
    teams = (
        Team.objects.select_related("lead", "parent")
        .annotate(
            member_count=Count("members", distinct=True),
            app_count=Count("apps", filter=live, distinct=True),
            orphaned_count=Count(
                "apps", filter=live & Q(apps__orphaned_at__isnull=False), distinct=True
            ),
        )
        .order_by("name")
    )
    return render(request, "catalog/team_list.html", {"teams": teams})


def _backstage(team: Team) -> dict | None:
    """Where a team read from Backstage came from, and its picture when that is served over
    https (an http image on an https page would be mixed content)."""
    entity = getattr(team, "backstage_entity", None)
    if entity is None:
        return None
    spec = entity.document.get("spec") if isinstance(entity.document, dict) else None
    profile = spec.get("profile") if isinstance(spec, dict) else None
    picture = profile.get("picture") if isinstance(profile, dict) else None
    return {
        "ref": f"{entity.kind}:{entity.namespace}/{entity.name}",
        # Only a web address becomes a link: the location is whatever the file was read as.
        "location": entity.location,
        "location_link": entity.location.startswith(("https://", "http://")),
        "source": entity.source,
        "missing_since": entity.missing_since,
        "picture": picture if isinstance(picture, str) and picture.startswith("https://") else "",
    }


def _detail_context(
    request: HttpRequest,
    team: Team,
    children: list[Team],
    form: TeamLeadForm | None,
    chat_form: TeamChatForm | None = None,
) -> dict:
    user = request.user
    members = list(team.members.order_by("username"))
    apps_filter = _visible_live_apps(user)
    apps = list(
        MicroApp.objects.filter(apps_filter, team=team)
        .select_related("owner")
        .annotate(co_owner_count=Count("co_owners", distinct=True))
        .order_by("name")
    )
    may_set_lead = permissions.can_set_team_lead(user)
    if may_set_lead and form is None:
        form = TeamLeadForm(
            team=team, initial={"lead": team.lead.get_username() if team.lead else ""}
        )
    return {
        "team": team,
        "children": children,
        "backstage": _backstage(team),
        "members": members,
        "apps": apps,
        "orphaned_count": sum(1 for app in apps if app.orphaned_at),
        "may_set_lead": may_set_lead,
        "form": form if may_set_lead else None,
        **_chat_context(user, team, chat_form),
    }


def _chat_context(user, team: Team, chat_form: TeamChatForm | None) -> dict:
    """The team's chat settings as shown (the Teams webhook masked to its host), and the
    form for who may change them."""
    from messaging.teams.hosts import masked

    may_edit = permissions.can_edit_team_chat(user, team)
    if may_edit and chat_form is None:
        chat_form = TeamChatForm(instance=team)
    return {
        "teams_webhook_masked": masked(team.teams_webhook_url),
        "may_edit_chat": may_edit,
        "chat_form": chat_form if may_edit else None,
    }


def _team(slug: str) -> tuple[Team, list[Team]]:
    """The team and its sub-teams, read in the one query."""
    rows = list(
        Team.objects.select_related("lead", "parent", "backstage_entity__source")
        .filter(Q(slug=slug) | Q(parent__slug=slug))
        .order_by("name")
    )
    team = next((row for row in rows if row.slug == slug), None)
    if team is None:
        raise Http404("No such team.")
    return team, [row for row in rows if row.parent_id == team.pk]


@login_required
@require_safe
def team_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """One team: its facts, members, live apps (drafts for those who may see them) and,
    for the platform team, the lead form. A fixed number of queries."""
    if not permissions.can_view_teams(request.user):
        raise PermissionDenied("Sign in to see teams.")
    team, children = _team(slug)
    context = _detail_context(request, team, children, None)
    return render(request, "catalog/team_detail.html", context)


@login_required
@require_POST
def team_set_lead(request: HttpRequest, slug: str) -> HttpResponse:
    """Set or clear the team's lead (platform team). A refused choice re-renders the page
    with the error on the field, status 400, and nothing written."""
    if not permissions.can_set_team_lead(request.user):
        raise PermissionDenied("Only the platform team names a team's lead.")
    team, children = _team(slug)
    form = TeamLeadForm(request.POST, team=team)
    if form.is_valid():
        lead = form.cleaned_data["lead"]
        try:
            services.team_set_lead(team=team, lead=lead, actor=request.user)
        except ValidationError as exc:
            form.add_error("lead", exc.message_dict.get("lead", exc.messages))
        else:
            if lead is None:
                messages.success(request, f"{team.name} has no lead now.")
            else:
                who = lead.get_full_name() or lead.get_username()
                messages.success(request, f"{who} leads {team.name} now.")
            return redirect("team-detail", slug=team.slug)
    context = _detail_context(request, team, children, form)
    return render(request, "catalog/team_detail.html", context, status=400)


@login_required
@require_POST
def team_set_chat(request: HttpRequest, slug: str) -> HttpResponse:
    """Set the team's Slack channel and Teams webhook (its lead and the platform team). A
    refused value re-renders the page with the error on the field, status 400, and
    nothing written."""
    from messaging.team_chat import set_team_chat

    team, children = _team(slug)
    if not permissions.can_edit_team_chat(request.user, team):
        raise PermissionDenied("The team's lead or the platform team sets its chat channels.")
    form = TeamChatForm(request.POST, instance=Team.objects.get(pk=team.pk))
    if form.is_valid():
        channel, webhook = form.chat_settings(team)
        set_team_chat(
            team=team, slack_channel=channel, teams_webhook_url=webhook, actor=request.user
        )
        messages.success(request, f"Chat settings of {team.name} saved.")
        return redirect("team-detail", slug=team.slug)
    context = _detail_context(request, team, children, None, form)
    return render(request, "catalog/team_detail.html", context, status=400)
