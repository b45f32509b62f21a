"""HTTP routes of portraits and team matrices: JSON for the QA platform, HTML pages for supervisors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse

from service.portraits.rendering import render_portrait, render_team
from service.portraits.schemas import Portrait, TeamPairings, TeamView
from service.access.keys import Caller
from service.web.auth import allow, check_team
from service.web.params import Dates, Lang

if TYPE_CHECKING:
    from service.context import ServiceContext


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(tags=["portraits"])
    readers = ("platform", "supervisor")

    @api.get("/v1/agents/{agent_id}/portrait", response_model=Portrait)
    def agent_portrait(agent_id: str, dates: Dates, lang: Lang = "zh",
                       caller: Caller = allow(ctx, *readers)) -> Portrait:
        portrait = ctx.portrait(agent_id, lang, dates)
        if portrait is None:
            raise HTTPException(404, f"no scored assessments for agent {agent_id!r}")
        check_team(caller, portrait.team_id)
        return portrait

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
