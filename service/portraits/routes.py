"""HTTP routes of portraits and team matrices: JSON for the QA platform, HTML pages for supervisors."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse

from pydantic import BaseModel, Field

from service.portraits.rendering import render_portrait, render_team
from service.storage import repository
from service.portraits.schemas import Portrait, TeamPairings, TeamView
from service.access.keys import Caller
from service.web.auth import allow, check_team
from service.web.params import Dates, Lang

if TYPE_CHECKING:
    from service.context import ServiceContext


class PlacementRecord(BaseModel):
    period: str
    status: str
    quadrant: str | None
    ability: float | None
    cognition: float | None
    assessment_ids: list[str] = Field(description="The assessments it read: placing them again gives it back.")
    rubric_version: str
    model_version: str
    created_at: datetime
    in_force: bool = Field(description="False once a later record for the same period superseded it.")


def check_agent(ctx: ServiceContext, caller: Caller, agent_id: str) -> None:
    """A supervisor may read an agent of their teams only; checked before any portrait work is done."""
    teams = {team for agent, team in ctx.agents() if agent == agent_id}
    if teams and not any(caller.sees_team(team) for team in teams):
        raise HTTPException(403, f"a supervisor key reads its own teams only ({', '.join(sorted(caller.teams))}); "
                                 f"agent {agent_id} is in team {', '.join(sorted(t or '(none)' for t in teams))}")


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(tags=["portraits"])
    readers = ("platform", "supervisor")

    @api.get("/v1/agents/{agent_id}/portrait", response_model=Portrait)
    def agent_portrait(agent_id: str, dates: Dates, lang: Lang = "zh",
                       caller: Caller = allow(ctx, *readers)) -> Portrait:
        check_agent(ctx, caller, agent_id)
        portrait = ctx.portrait(agent_id, lang, dates)
        if portrait is None:
            raise HTTPException(404, f"no scored assessments for agent {agent_id!r}")
        check_team(caller, portrait.team_id)
        return portrait

    @api.get("/v1/agents/{agent_id}/placements", response_model=list[PlacementRecord])
    def placement_records(agent_id: str, caller: Caller = allow(ctx, *readers)) -> list[PlacementRecord]:
        """Every placement shown for the agent, as stored with its inputs, oldest first; superseded ones included."""
        check_agent(ctx, caller, agent_id)
        with ctx.sessions() as session:
            rows = repository.placement_records(session, agent_id)
        latest = {row.period: row.id for row in rows}  # rows are oldest first: the last per period is in force
        return [PlacementRecord(period=r.period, status=r.status, quadrant=r.quadrant, ability=r.ability,
                                cognition=r.cognition, assessment_ids=r.assessment_ids, rubric_version=r.rubric_version,
                                model_version=r.model_version, created_at=r.created_at, in_force=latest[r.period] == r.id)
                for r in rows]

    @api.get("/v1/teams/{team_id}", response_model=TeamView)
    def team(team_id: str, dates: Dates, lang: Lang = "zh", caller: Caller = allow(ctx, *readers)) -> TeamView:
        check_team(caller, team_id)
        view = ctx.team(team_id, lang, dates)
        if not view.members:
            raise HTTPException(404, f"no assessed agents in team {team_id!r}")
        return view

    @api.get("/v1/teams/{team_id}/pairings", response_model=TeamPairings)
    def team_pairings(team_id: str, lang: Lang = "zh", caller: Caller = allow(ctx, *readers)) -> TeamPairings:
        """The "1+1" pairs of the team: strengthening-base apprentices with lead-goose mentors, each with its reason."""
        check_team(caller, team_id)
        view = ctx.team(team_id, lang)
        if not view.members:
            raise HTTPException(404, f"no assessed agents in team {team_id!r}")
        return TeamPairings(team_id=team_id, pairs=view.pairs, unpaired=view.unpaired)

    return api


def pages(ctx: ServiceContext) -> APIRouter:
    from service.web.pages import page_caller

    api = APIRouter(tags=["pages"], include_in_schema=False)
    readers = ("platform", "supervisor")

    @api.get("/agents/{agent_id}", response_class=HTMLResponse)
    def agent_page(agent_id: str, dates: Dates, lang: Lang = Query("zh"),
                   caller: Caller = page_caller(ctx, *readers)) -> HTMLResponse:
        check_agent(ctx, caller, agent_id)
        portrait = ctx.portrait(agent_id, lang, dates)
        if portrait is None:
            raise HTTPException(404, f"no scored assessments for agent {agent_id!r}")
        check_team(caller, portrait.team_id)
        team_href = f"/teams/{portrait.team_id}?lang={lang}" if portrait.team_id else f"/teams?lang={lang}"
        return HTMLResponse(render_portrait(portrait, team_href=team_href,
                                            agent_href=lambda a: f"/agents/{a}?lang={lang}",
                                            call_href=lambda assessment_id: f"/assessments/{assessment_id}?lang={lang}"))

    @api.get("/teams/{team_id}", response_class=HTMLResponse)
    def team_page(team_id: str, dates: Dates, lang: Lang = Query("zh"),
                  caller: Caller = page_caller(ctx, *readers)) -> HTMLResponse:
        check_team(caller, team_id)
        view = ctx.team(team_id, lang, dates)
        return HTMLResponse(render_team(view, agent_href=lambda a: f"/agents/{a}?lang={lang}"))

    @api.get("/teams", response_class=HTMLResponse)
    def all_agents_page(lang: Lang = Query("zh"), caller: Caller = page_caller(ctx, "platform")) -> HTMLResponse:
        view = ctx.team(None, lang)
        return HTMLResponse(render_team(view, agent_href=lambda a: f"/agents/{a}?lang={lang}"))

    return api
