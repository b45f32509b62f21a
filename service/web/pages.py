"""The pages people use: sign in with a key, home, submit a transcript, read an assessment and correct it.

Server-rendered with Jinja2 (autoescaped: transcript text is untrusted) and plain forms: no scripts, so they work
offline and in any browser. A page asked for without a valid key sends the browser to the sign-in page.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape

from service.access.keys import Caller, Role, authenticate
from service.batches.status import batch_status
from service.corrections.routes import apply_correction
from service.corrections.schemas import CorrectionRequest
from service.rubrics.schemas import Rubric
from service.scoring.highlight import marks_by_turn, split_turn
from service.storage import repository
from service.transcripts.parsing import TranscriptError, parse_plain_text
from service.web.auth import COOKIE, allow
from service.validation import describe_validation_error
from service.web.params import Lang

if TYPE_CHECKING:
    from service.context import ServiceContext


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=ChoiceLoader([PackageLoader("service.web", "templates"), PackageLoader("service.portraits", "templates")]),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
    )


def render(name: str, **values: Any) -> HTMLResponse:
    return HTMLResponse(environment().get_template(name).render(**values))


def page_caller(ctx: ServiceContext, *roles: Role) -> Any:
    return allow(ctx, *roles, page=True)


def _criterion_names(rubric: Rubric, lang: str) -> dict[str, str]:
    return {c.id: c.name.get(lang) for c in rubric.criteria}


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(include_in_schema=False)
    everyone = ("platform", "reviewer", "supervisor")

    @api.get("/signin", response_class=HTMLResponse)
    def signin_form(next: str = "/", lang: Lang = "zh", error: str | None = None) -> HTMLResponse:
        return render("signin.html", lang=lang, next=next, error=error)

    @api.post("/signin")
    def signin(key: str = Form(...), next: str = Form("/"), lang: Lang = Form("zh")) -> RedirectResponse:
        with ctx.sessions() as session:
            found = authenticate(session, key.strip())
        if found is None:
            return RedirectResponse(f"/signin?next={quote(next)}&lang={lang}&error=1", status_code=303)
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, key.strip(), httponly=True, samesite="strict", max_age=12 * 3600)
        return response

    @api.get("/signout")
    def signout() -> RedirectResponse:
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @api.get("/", response_class=HTMLResponse)
    def home(lang: Lang = "zh", caller: Caller = page_caller(ctx, *everyone)) -> HTMLResponse:
        teams = sorted({t for _, t in ctx.agents() if t})
        visible = [t for t in teams if caller.sees_team(t)]
        with ctx.sessions() as session:
            recent = repository.list_assessments(session, limit=20) if caller.role != "supervisor" else []
        return render("home.html", lang=lang, caller=caller, teams=visible, recent=recent)

    @api.get("/submit", response_class=HTMLResponse)
    def submit_form(lang: Lang = "zh", caller: Caller = page_caller(ctx, "platform", "reviewer")) -> HTMLResponse:
        return render("submit.html", lang=lang, caller=caller, error=None, form={})

    @api.post("/submit", response_model=None)
    def submit(request: Request, transcript_id: str = Form(...), agent_id: str = Form(...),
               agent_name: str = Form(""), team_id: str = Form(""), text: str = Form(...), notes: str = Form(""),
               lang: Lang = Form("zh"),
               caller: Caller = page_caller(ctx, "platform", "reviewer")) -> HTMLResponse | RedirectResponse:
        defaults = {"id": transcript_id.strip(), "agent_id": agent_id.strip()}
        if agent_name.strip():
            defaults["agent_name"] = agent_name.strip()
        if team_id.strip():
            defaults["team_id"] = team_id.strip()
        if notes.strip():
            defaults["reviewer_notes"] = notes.strip()
        try:
            transcript = parse_plain_text(text, "transcript", defaults)
        except TranscriptError as error:
            form = {"transcript_id": transcript_id, "agent_id": agent_id, "agent_name": agent_name,
                    "team_id": team_id, "text": text, "notes": notes}
            return render("submit.html", lang=lang, caller=caller, error=str(error), form=form)
        batch_id, _, _ = ctx.submit_batch([transcript])
        return RedirectResponse(f"/batches/{batch_id}?lang={lang}", status_code=303)

    @api.get("/batches/{batch_id}", response_class=HTMLResponse)
    def batch_page(batch_id: str, lang: Lang = "zh",
                   caller: Caller = page_caller(ctx, "platform", "reviewer")) -> HTMLResponse:
        with ctx.sessions() as session:
            status = batch_status(session, batch_id, limit=200)
        if status is None:
            raise HTTPException(404, f"no batch {batch_id!r}")
        return render("batch.html", lang=lang, status=status, refresh=status.status != "done")

    @api.get("/assessments/{assessment_id}", response_class=HTMLResponse)
    def assessment_page(assessment_id: str, lang: Lang = "zh",
                        caller: Caller = page_caller(ctx, *everyone)) -> HTMLResponse:
        with ctx.sessions() as session:
            assessment = repository.get_assessment(session, assessment_id)
            transcript = repository.get_transcript(session, assessment.transcript_id) if assessment else None
            history = repository.corrections(session, assessment_id) if assessment else []
        if assessment is None or transcript is None:
            raise HTTPException(404, f"no assessment {assessment_id!r}")
        if not caller.sees_team(assessment.team_id):
            raise HTTPException(403, "a supervisor key reads its own teams only")
        marks = marks_by_turn(assessment)
        turns = [(n, turn, split_turn(turn.text, marks.get(n, []))) for n, turn in transcript.numbered_turns()]
        return render("assessment.html", lang=lang, caller=caller, assessment=assessment, transcript=transcript,
                      turns=turns, history=history, criterion_names=_criterion_names(ctx.rubric, lang),
                      can_correct=caller.role in ("reviewer", "admin"))

    @api.post("/assessments/{assessment_id}/corrections")
    def correct_from_page(assessment_id: str, criterion_id: str = Form(...), score: str = Form(...),
                          comment: str = Form(""), lang: Lang = Form("zh"),
                          caller: Caller = page_caller(ctx, "reviewer")) -> RedirectResponse:
        try:
            correction = CorrectionRequest(criterion_id=criterion_id, score=None if score == "na" else score,
                                           comment=comment)  # type: ignore[arg-type]
        except ValidationError as error:
            raise HTTPException(422, describe_validation_error(error)) from None
        apply_correction(ctx, assessment_id, correction, caller)
        return RedirectResponse(f"/assessments/{assessment_id}?lang={lang}#criterion-{criterion_id}", status_code=303)

    return api
