"""FastAPI application: the JSON API for the QA platform and HTML pages for supervisors."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse

from service import __version__
from service.context import ServiceContext
from service.corrections.schemas import CorrectionRecord, CorrectionRequest
from service.placement.window import DateRange
from service.portraits.rendering import render_portrait, render_team
from service.portraits.schemas import Portrait, TeamPairings, TeamView
from service.scoring.schemas import Assessment, ReviewerOverride
from service.storage import repository
from service.transcripts.schemas import Transcript

Lang = Literal["zh", "en"]


def date_range(
    since: date | None = Query(None, description="Only calls on or after this date (YYYY-MM-DD)."),
    until: date | None = Query(None, description="Only calls on or before this date (YYYY-MM-DD)."),
) -> DateRange | None:
    """A date window asked for in the query; none means the model's own window over the whole record."""
    if since is None and until is None:
        return None
    try:
        return DateRange(since, until)
    except ValueError as error:
        raise HTTPException(422, f"query since/until: {error}") from None


Dates = Annotated[DateRange | None, Depends(date_range)]


def create_app(context: ServiceContext | None = None) -> FastAPI:
    ctx = context or ServiceContext()
    app = FastAPI(
        title="Iceberg",
        version=__version__,
        description="Competency assessment of contact-center agents from call transcripts.",
    )

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(
        "/v1/assessments",
        response_model=Assessment,
        tags=["assessments"],
        responses={502: {"model": Assessment, "description": "The model failed; the stored assessment says why."}},
    )
    def create_assessment(transcript: Transcript) -> JSONResponse:
        """Score one transcript now (synchronously) and store it; the same content is never scored twice."""
        assessment = ctx.assessor.assess(transcript)
        status = 200 if assessment.status == "scored" else 502
        return JSONResponse(assessment.model_dump(mode="json"), status_code=status)

    @app.get("/v1/assessments/{assessment_id}", response_model=Assessment, tags=["assessments"])
    def get_assessment(assessment_id: str) -> Assessment:
        with ctx.sessions() as session:
            found = repository.get_assessment(session, assessment_id)
        if found is None:
            raise HTTPException(404, f"no assessment {assessment_id!r}")
        return found

    @app.post("/v1/assessments/{assessment_id}/corrections", response_model=Assessment, tags=["assessments"])
    def correct(assessment_id: str, correction: CorrectionRequest) -> Assessment:
        """A reviewer sets a criterion's score (with a required comment). The model's score stays beside it, the
        change is audited, and portraits and evaluation use the reviewer's value from now on."""
        override = ReviewerOverride(score=correction.score, reviewer=correction.reviewer, comment=correction.comment,
                                    at=datetime.now(timezone.utc))
        try:
            with ctx.sessions.begin() as session:
                updated = repository.correct_score(session, assessment_id, correction.criterion_id, override)
        except repository.CorrectionError as error:
            raise HTTPException(422, str(error)) from None
        if updated is None:
            raise HTTPException(404, f"no assessment {assessment_id!r}")
        return updated

    @app.get("/v1/assessments/{assessment_id}/corrections", response_model=list[CorrectionRecord],
             tags=["assessments"])
    def correction_history(assessment_id: str) -> list[CorrectionRecord]:
        """Who changed what, when, from what to what, and why; oldest first."""
        with ctx.sessions() as session:
            if repository.get_assessment(session, assessment_id) is None:
                raise HTTPException(404, f"no assessment {assessment_id!r}")
            return [CorrectionRecord.model_validate(r) for r in repository.corrections(session, assessment_id)]

    @app.get("/v1/agents/{agent_id}/portrait", response_model=Portrait, tags=["portraits"])
    def agent_portrait(agent_id: str, dates: Dates, lang: Lang = "zh") -> Portrait:
        portrait = ctx.portrait(agent_id, lang, dates)
        if portrait is None:
            raise HTTPException(404, f"no scored assessments for agent {agent_id!r}")
        return portrait

    @app.get("/v1/teams/{team_id}", response_model=TeamView, tags=["portraits"])
    def team(team_id: str, dates: Dates, lang: Lang = "zh") -> TeamView:
        view = ctx.team(team_id, lang, dates)
        if not view.members:
            raise HTTPException(404, f"no assessed agents in team {team_id!r}")
        return view

    @app.get("/v1/teams/{team_id}/pairings", response_model=TeamPairings, tags=["portraits"])
    def team_pairings(team_id: str, lang: Lang = "zh") -> TeamPairings:
        """The "1+1" pairs of the team: strengthening-base apprentices with lead-goose mentors, each with its reason."""
        view = ctx.team(team_id, lang)
        if not view.members:
            raise HTTPException(404, f"no assessed agents in team {team_id!r}")
        return TeamPairings(team_id=team_id, pairs=view.pairs, unpaired=view.unpaired)

    @app.get("/agents/{agent_id}", response_class=HTMLResponse, tags=["pages"])
    def agent_page(agent_id: str, dates: Dates, lang: Lang = Query("zh")) -> HTMLResponse:
        portrait = ctx.portrait(agent_id, lang, dates)
        if portrait is None:
            raise HTTPException(404, f"no scored assessments for agent {agent_id!r}")
        team_href = f"/teams/{portrait.team_id}?lang={lang}" if portrait.team_id else f"/?lang={lang}"
        return HTMLResponse(render_portrait(portrait, team_href=team_href, agent_href=lambda a: f"/agents/{a}?lang={lang}"))

    @app.get("/teams/{team_id}", response_class=HTMLResponse, tags=["pages"])
    def team_page(team_id: str, dates: Dates, lang: Lang = Query("zh")) -> HTMLResponse:
        view = ctx.team(team_id, lang, dates)
        return HTMLResponse(render_team(view, agent_href=lambda a: f"/agents/{a}?lang={lang}"))

    @app.get("/", response_class=HTMLResponse, tags=["pages"])
    def all_agents_page(lang: Lang = Query("zh")) -> HTMLResponse:
        view = ctx.team(None, lang)
        return HTMLResponse(render_team(view, agent_href=lambda a: f"/agents/{a}?lang={lang}"))

    return app
