"""HTTP routes of batches: accept many transcripts at once (202), then report progress per transcript."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from service.batches.schemas import MAX_BATCH, BatchAccepted, BatchRequest, BatchStatus
from service.batches.status import batch_status
from service.transcripts.schemas import Transcript
from service.validation import describe_validation_error
from service.web.auth import allow
from service.web.params import Limit

if TYPE_CHECKING:
    from service.context import ServiceContext

JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines")
_transcript = TypeAdapter(Transcript)
_request = TypeAdapter(BatchRequest)


def _from_jsonl(raw: bytes, webhook_url: str | None) -> BatchRequest:
    """One transcript per line; every bad line is reported with its number and field, none is dropped silently."""
    transcripts, errors = [], []
    for lineno, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            transcripts.append(_transcript.validate_json(line))
        except ValidationError as error:
            errors.append({"line": lineno, "message": describe_validation_error(error)})
        if len(transcripts) > MAX_BATCH:
            raise HTTPException(413, f"a batch holds at most {MAX_BATCH} transcripts; split the file")
    if errors:
        raise _bad_lines(errors)
    if not transcripts:
        raise HTTPException(422, "body: no transcript lines")
    try:
        return BatchRequest(transcripts=transcripts, webhook_url=webhook_url)  # type: ignore[arg-type]
    except ValidationError as error:
        raise HTTPException(422, describe_validation_error(error)) from None


def _bad_lines(errors: list[dict[str, object]]) -> HTTPException:
    shown = "; ".join(f"line {e['line']}: {e['message']}" for e in errors[:20])
    more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
    return HTTPException(422, f"{len(errors)} bad transcript(s), nothing was queued: {shown}{more}")


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/v1/batches", tags=["batches"])

    @api.post("", status_code=202, response_model=BatchAccepted, dependencies=[allow(ctx, "platform", "reviewer")],
              openapi_extra={"requestBody": {"content": {
                  "application/json": {"schema": BatchRequest.model_json_schema(ref_template="#/components/schemas/{model}")},
                  "application/x-ndjson": {"schema": {"type": "string", "description": "one transcript per line"}},
              }}})
    async def create_batch(request: Request, webhook_url: str | None = None) -> JSONResponse:
        """Queue many transcripts (JSON ``{"transcripts": [...]}`` or JSON lines) and answer at once with the batch
        id. Each transcript is known by its id: sending the same call again costs no second model call. A batch
        with any bad transcript is refused whole, naming every bad one, so that nothing is half-queued."""
        raw = await request.body()
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type in JSONL_TYPES:
            batch = _from_jsonl(raw, webhook_url)
        else:
            try:
                data = json.loads(raw or b"null")
            except json.JSONDecodeError as error:
                raise HTTPException(422, f"body: not JSON ({error.msg} at line {error.lineno}); send "
                                         f"{{\"transcripts\": [...]}} or JSON lines as application/x-ndjson") from None
            if isinstance(data, dict) and webhook_url and "webhook_url" not in data:
                data["webhook_url"] = webhook_url
            if isinstance(data, dict) and len(data.get("transcripts") or []) > MAX_BATCH:
                raise HTTPException(413, f"a batch holds at most {MAX_BATCH} transcripts; split it")
            try:
                batch = _request.validate_python(data)
            except ValidationError as error:
                raise HTTPException(422, describe_validation_error(error)) from None
        ids = [t.id for t in batch.transcripts]
        doubled = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) != len(ids) else []
        if doubled:
            raise HTTPException(422, f"transcripts: ids {doubled[:10]} appear more than once in the batch")
        batch_id, new, closed = ctx.submit_batch(batch.transcripts,
                                                 str(batch.webhook_url) if batch.webhook_url else None)
        accepted = BatchAccepted(id=batch_id, status="done" if closed else "queued", total=len(batch.transcripts),
                                 new_jobs=new, status_url=f"/v1/batches/{batch_id}")
        return JSONResponse(accepted.model_dump(), status_code=202, headers={"Location": accepted.status_url})

    @api.get("/{batch_id}", response_model=BatchStatus, dependencies=[allow(ctx, "platform", "reviewer")])
    def get_batch(batch_id: str, limit: Limit = 100, cursor: str | None = None) -> BatchStatus:
        """Progress: counts per state and, page by page, each transcript's state, assessment and error."""
        try:
            after = int(cursor) if cursor is not None else None
        except ValueError:
            raise HTTPException(422, "cursor: not a cursor this service issued; use next_cursor") from None
        with ctx.sessions() as session:
            status = batch_status(session, batch_id, limit, after)
        if status is None:
            raise HTTPException(404, f"no batch {batch_id!r}")
        return status

    return api
