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
