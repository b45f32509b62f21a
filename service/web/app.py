"""The FastAPI application: routers from each domain, errors as problem details, request metrics."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from typing import AsyncIterator
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse

from service import __version__
from service.batches import routes as batch_routes
from service.cases import routes as case_routes
from service.context import ServiceContext
from service.corrections import routes as corrections_routes
from service.observability import HTTP_REQUESTS, HTTP_SECONDS
from service.portraits import routes as portrait_routes
from service.rubrics import routes as rubric_routes
from service.scoring import routes as scoring_routes
from service.web import auth, health, pages, problems


def create_app(context: ServiceContext | None = None, workers: bool = False) -> FastAPI:
    """The app; with ``workers`` it also scores queued batch jobs while it runs (``iceberg serve`` does)."""
    ctx = context or ServiceContext()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if workers:
            ctx.start_workers()
        try:
            yield
        finally:
            if workers:
                ctx.stop_workers()

    app = FastAPI(
        lifespan=lifespan,
        title="Iceberg",
        version=__version__,
        description="Competency assessment of contact-center agents from call transcripts. Errors are RFC 9457 "
                    "problem details (`application/problem+json`) naming the field to fix.",
    )
    problems.install(app)

    @app.middleware("http")
    async def count_requests(request: Request, call_next) -> Response:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        response: Response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")  # the template, so that ids do not explode the label set
        HTTP_REQUESTS.labels(request.method, path, str(response.status_code)).inc()
        HTTP_SECONDS.labels(path).observe(time.perf_counter() - started)
        return response

    app.include_router(health.router(ctx))
    app.include_router(scoring_routes.router(ctx))
    app.include_router(corrections_routes.router(ctx))
    app.include_router(batch_routes.router(ctx))
    app.include_router(rubric_routes.router(ctx))
    app.include_router(case_routes.router(ctx))
    app.include_router(portrait_routes.router(ctx))
    app.include_router(portrait_routes.pages(ctx))
    app.include_router(pages.router(ctx))

    @app.exception_handler(auth.SignInRequired)
    async def to_signin(request: Request, error: auth.SignInRequired) -> RedirectResponse:
        return RedirectResponse(f"/signin?next={quote(error.next_path)}", status_code=303)
    return app
