"""One JSON-schema model call through litellm, returned with a record of the call for the log.

Every provider goes through here (the bundled server is an ``openai/`` model with an ``api_base``), so retries,
logging and parsing behave the same whichever model is configured.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

# litellm must not fetch its cost map from the network at import time.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@dataclass(frozen=True)
class ModelEndpoint:
    model: str
    api_base: str | None = None
    api_key: str | None = None
    timeout_s: float = 300.0


@dataclass
class ModelCall:
    """What we log of every call: enough to replay it, price it and see why it failed."""

    model: str
    prompt_hash: str
    request: dict[str, Any]
    response_text: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    latency_ms: float | None = None
    cost_usd: float | None = None
    outcome: str = "pending"
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ModelCallError(RuntimeError):
    def __init__(self, message: str, call: ModelCall) -> None:
        super().__init__(message)
        self.call = call


def prompt_hash(messages: list[dict[str, str]], schema: dict[str, Any]) -> str:
    payload = json.dumps([messages, schema], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def complete_json(
    endpoint: ModelEndpoint,
    messages: list[dict[str, str]],
    schema: dict[str, Any],
    *,
    schema_name: str,
    max_tokens: int,
    temperature: float = 0.0,
) -> tuple[str, ModelCall]:
    """Ask for an answer matching ``schema``; returns the raw text and the call record. Raises ``ModelCallError``."""
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    response_format = {"type": "json_schema", "json_schema": {"name": schema_name, "schema": schema, "strict": True}}
    request = {"messages": messages, "response_format": response_format, "max_tokens": max_tokens,
               "temperature": temperature}
    call = ModelCall(model=endpoint.model, prompt_hash=prompt_hash(messages, schema), request=request)
    started = time.perf_counter()
    try:
        response = litellm.completion(
            model=endpoint.model,
            api_base=endpoint.api_base,
            api_key=endpoint.api_key or ("sk-local" if endpoint.api_base else None),
            timeout=endpoint.timeout_s,
            num_retries=0,
            **request,
        )
    except Exception as error:  # litellm maps provider errors to many classes; all are a failed call here
        call.latency_ms = (time.perf_counter() - started) * 1000
        call.outcome = "error"
        call.error = f"{type(error).__name__}: {error}"
        raise ModelCallError(f"model call to {endpoint.model} failed: {call.error}", call) from error
    call.latency_ms = (time.perf_counter() - started) * 1000
    choice = response.choices[0]
    text = choice.message.content or ""
    call.response_text = text
    usage = getattr(response, "usage", None)
    if usage:
        call.prompt_tokens = getattr(usage, "prompt_tokens", None)
        call.completion_tokens = getattr(usage, "completion_tokens", None)
        details = getattr(usage, "prompt_tokens_details", None)
        call.cached_tokens = getattr(details, "cached_tokens", None) if details else None
    try:
        call.cost_usd = float(litellm.completion_cost(completion_response=response))
    except Exception:  # unknown models (the local one) have no price: cost stays unknown, not zero
        call.cost_usd = None
    call.extra["finish_reason"] = choice.finish_reason
    if choice.finish_reason == "length":
        call.outcome = "truncated"
        raise ModelCallError(
            f"the model's answer was cut at {max_tokens} tokens (raise ICEBERG_LLM_MAX_OUTPUT_TOKENS)", call
        )
    call.outcome = "ok"
    return text, call
