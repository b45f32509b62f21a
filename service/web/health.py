"""Liveness, readiness and metrics: what an orchestrator and Prometheus ask."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from service.llm.provider import model_readiness
from service.observability import REGISTRY
from service.web.auth import allow

if TYPE_CHECKING:
    from service.context import ServiceContext


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(tags=["health"])

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process answers. Nothing else is checked: a slow database must not get the service restarted."""
        return {"status": "ok"}

    @api.get("/readyz", responses={503: {"description": "A dependency is not ready; `checks` says which."}})
    def readyz() -> JSONResponse:
        """Database, vector store and model, each with what was found."""
        checks: dict[str, dict[str, object]] = {}
        try:
            with ctx.sessions() as session:
                session.execute(text("SELECT 1"))
            checks["database"] = {"ok": True, "detail": ctx.settings.sqlalchemy_url.split("://")[0]}
        except Exception as error:  # any driver error means not ready; the detail says which
            checks["database"] = {"ok": False, "detail": f"{type(error).__name__}: {error}"[:300]}
        try:
            ctx.settings.chroma_dir.mkdir(parents=True, exist_ok=True)
            heartbeat = ctx.case_index.client.heartbeat()
            checks["vector_store"] = {"ok": bool(heartbeat), "detail": f"chromadb at {ctx.settings.chroma_dir}"}
        except Exception as error:  # chromadb raises its own assortment
            checks["vector_store"] = {"ok": False, "detail": f"{type(error).__name__}: {error}"[:300]}
        ok, detail = model_readiness(ctx.settings)
        checks["model"] = {"ok": ok, "detail": detail}
        ready = all(c["ok"] for c in checks.values())
        return JSONResponse({"status": "ready" if ready else "not_ready", "checks": checks},
                            status_code=200 if ready else 503)

    @api.get("/metrics", response_class=Response, dependencies=[allow(ctx, "platform")])
    def metrics() -> Response:
        """Prometheus text format: requests, model calls, tokens, latency, assessments, queue depth."""
        ctx.refresh_gauges()
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return api
