"""Several model deployments behind one name, through litellm's Router: load balancing, per-deployment rate limits,
and a deployment that fails is skipped (cooled down) rather than fatal.

The file (``ICEBERG_LLM_DEPLOYMENTS``) is YAML::

    model_name: scorer                       # the name recorded on assessments, as "router/scorer"
    deployments:
      - litellm_params: {model: openai/qwen2.5-7b-instruct, api_base: "http://vllm-1:8000/v1", api_key: none}
        rpm: 120                             # optional per-deployment limits
      - litellm_params: {model: deepseek/deepseek-chat, api_key: os.environ/DEEPSEEK_API_KEY}
        tpm: 200000
    router_settings: {routing_strategy: simple-shuffle, allowed_fails: 1, cooldown_time: 30}
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.validation import describe_validation_error


class DeploymentsError(ValueError):
    """The deployments file does not validate; the message names the file and field."""


class Deployment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    litellm_params: dict[str, Any]
    rpm: int | None = Field(default=None, gt=0)
    tpm: int | None = Field(default=None, gt=0)


class DeploymentsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_name: str = Field(min_length=1)
    deployments: list[Deployment] = Field(min_length=1)
    router_settings: dict[str, Any] = Field(default_factory=dict)


def load_deployments(path: Path) -> DeploymentsFile:
    """Parsed once per file version: assessments ask for the model name on every call."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as error:
        raise DeploymentsError(f"{path}: {error}") from None
    return _load(path.resolve(), stamp)


@lru_cache(maxsize=8)
def _load(path: Path, stamp: int) -> DeploymentsFile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise DeploymentsError(f"{path}: {error}") from None
    try:
        parsed = DeploymentsFile.model_validate(data)
    except ValidationError as error:
        raise DeploymentsError(f"{path}: {describe_validation_error(error)}") from None
    for index, deployment in enumerate(parsed.deployments):
        if "model" not in deployment.litellm_params:
            raise DeploymentsError(f"{path}: field deployments.{index}.litellm_params.model: Field required")
    return parsed


_routers: dict[Path, Any] = {}
_lock = threading.Lock()


def router_for(path: Path, timeout_s: float) -> tuple[str, Any]:
    """The (cached) Router for a deployments file, and the model group name to call it with."""
    from litellm import Router

    config = load_deployments(path)
    with _lock:
        key = path.resolve()
        if key not in _routers:
            settings = {"allowed_fails": 1, "cooldown_time": 30, **config.router_settings}
            model_list = []
            for deployment in config.deployments:
                entry: dict[str, Any] = {"model_name": config.model_name, "litellm_params": dict(deployment.litellm_params)}
                if deployment.rpm:
                    entry["rpm"] = deployment.rpm
                if deployment.tpm:
                    entry["tpm"] = deployment.tpm
                model_list.append(entry)
            _routers[key] = Router(
                model_list=model_list,
                # A failed deployment is retried on another one of the group before the call counts as failed.
                num_retries=max(len(model_list) - 1, 0),
                timeout=timeout_s,
                **settings,
            )
        return config.model_name, _routers[key]
