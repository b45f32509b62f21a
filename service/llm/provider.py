"""Which model answers: the configured litellm model, or the bundled local one started on first use."""

from __future__ import annotations

import threading

from service.config import Settings
from service.llm.completion import ModelEndpoint
from service.llm.deployments import load_deployments, router_for
from service.llm.local_server import LocalModelServer

_local_servers: dict[str, LocalModelServer] = {}
_lock = threading.Lock()


def model_name(settings: Settings) -> str:
    """The model's name as recorded on assessments, known without starting anything."""
    if settings.llm_deployments:
        return f"router/{load_deployments(settings.llm_deployments).model_name}"
    return settings.llm_model or f"openai/{settings.local_model}"


def resolve_endpoint(settings: Settings) -> ModelEndpoint:
    if settings.llm_deployments:
        group, router = router_for(settings.llm_deployments, settings.llm_timeout_s)
        return ModelEndpoint(model=f"router/{group}", timeout_s=settings.llm_timeout_s, router=router,
                             router_group=group)
    if settings.llm_model:
        return ModelEndpoint(
            model=settings.llm_model,
            api_base=settings.llm_api_base,
            api_key=settings.llm_api_key,
            timeout_s=settings.llm_timeout_s,
        )
    with _lock:
        server = _local_servers.get(settings.local_model)
        if server is None:
            server = _local_servers[settings.local_model] = LocalModelServer(settings)
    return ModelEndpoint(
        model=server.litellm_model, api_base=server.api_base(), api_key="sk-local", timeout_s=settings.llm_timeout_s
    )


def stop_local_servers() -> None:
    with _lock:
        for server in _local_servers.values():
            server.stop()
        _local_servers.clear()


def model_readiness(settings: Settings, timeout_s: float = 3.0) -> tuple[bool, str]:
    """Whether the configured model can answer, checked without spending a model call."""
    import httpx

    from service.llm.bundled_weights import WeightsError, bundled_model, weights_available

    if settings.llm_deployments:
        deployments = load_deployments(settings.llm_deployments)
        return True, f"router over {len(deployments.deployments)} deployment(s); each is checked on use"
    if settings.llm_model:
        if not settings.llm_api_base:
            return True, f"{settings.llm_model}: provider endpoint, not probed"
        try:
            response = httpx.get(settings.llm_api_base.rstrip("/") + "/models", timeout=timeout_s,
                                 headers={"Authorization": f"Bearer {settings.llm_api_key or ''}"})
        except httpx.HTTPError as error:
            return False, f"{settings.llm_api_base} unreachable: {type(error).__name__}"
        return response.status_code < 500, f"{settings.llm_api_base} answered {response.status_code}"
    server = _local_servers.get(settings.local_model)
    if server is not None and server.running:
        return True, f"local {settings.local_model} running"
    try:
        return True, weights_available(bundled_model(settings.local_model), settings.model_cache_dir)
    except WeightsError as error:
        return False, str(error)
