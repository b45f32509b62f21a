"""One JSON-schema model call through litellm, returned with a record of the call for the log.

Every provider goes through here (the bundled server is an ``openai/`` model with an ``api_base``), so retries,
logging and parsing behave the same whichever model is configured.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.config import Settings


@dataclass(frozen=True)
class ModelEndpoint:
    model: str
    api_base: str | None = None
    api_key: str | None = None
    timeout_s: float = 300.0
    router: Any = None  # a litellm Router serving ``router_group``, when deployments are configured
    router_group: str | None = None


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


def prompt_hash(messages: list[dict[str, str]], schema: dict[str, Any]) -> str:
    payload = json.dumps([messages, schema], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def count_tokens(model: str, messages: list[dict[str, str]]) -> int:
    """Prompt tokens by litellm's counter (the provider's tokenizer where litellm knows it, else an estimate)."""
    import litellm

    return int(litellm.token_counter(model=model, messages=messages))


def context_tokens(settings: "Settings", model: str) -> int:
    """The model's input window: configured, the local server's, or litellm's model map, else a safe 8k."""
    if settings.llm_context_tokens:
        return settings.llm_context_tokens
    if not settings.llm_model and not settings.llm_deployments:
        return settings.local_context
    return _known_window(model)


@lru_cache(maxsize=64)
def _known_window(model: str) -> int:
    """Looked up once per model: for a name litellm does not know, the lookup tries generalisations of the name
    against the whole model map (0.2 ms, about a twelfth of an assessment's own work outside the model call)."""
    import litellm

    try:
        info = litellm.get_model_info(model)
        return int(info.get("max_input_tokens") or info.get("max_tokens") or 8192)
    except Exception:  # a model litellm does not know (self-hosted): assume a common window
        return 8192


@dataclass(frozen=True)
class RetryPolicy:
    """Timeouts, 429s and 5xx are retried with exponential backoff; a 429's Retry-After is honoured."""

    max_attempts: int = 4
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay_s)
        return min(self.base_delay_s * 2 ** (attempt - 1), self.max_delay_s)


def _retryable(error: Exception) -> bool:
    import litellm

    transient = (litellm.Timeout, litellm.RateLimitError, litellm.APIConnectionError, litellm.InternalServerError,
                 litellm.ServiceUnavailableError, litellm.BadGatewayError)
    if isinstance(error, transient):
        return True
    status = getattr(error, "status_code", None)
    return isinstance(status, int) and status >= 500


def _retry_after(error: Exception) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or getattr(error, "litellm_response_headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


@dataclass
class CallResult:
    text: str
    calls: list[ModelCall]
    logprobs: list[dict[str, Any]] = field(default_factory=list)


class ModelCallError(RuntimeError):
    """Every attempt failed; ``calls`` holds them all, for the log."""

    def __init__(self, message: str, calls: list[ModelCall]) -> None:
        super().__init__(message)
        self.calls = calls


def complete_json(
    endpoint: ModelEndpoint,
    messages: list[dict[str, str]],
    schema: dict[str, Any],
    *,
    schema_name: str,
    max_tokens: int,
    temperature: float = 0.0,
    retry: RetryPolicy = RetryPolicy(),
    logprobs: bool = False,
) -> CallResult:
    """Ask for an answer matching ``schema``, retrying transient failures; every attempt is returned for the log."""
    calls: list[ModelCall] = []
    for attempt in range(1, retry.max_attempts + 1):
        call, error, token_logprobs = _attempt(endpoint, messages, schema, schema_name, max_tokens, temperature,
                                               logprobs)
        call.extra["attempt"] = attempt
        calls.append(call)
        if error is None:
            return CallResult(text=call.response_text or "", calls=calls, logprobs=token_logprobs)
        if not _retryable(error) or attempt == retry.max_attempts:
            tried = f" after {attempt} attempts" if attempt > 1 else ""
            raise ModelCallError(f"model call to {endpoint.model} failed{tried}: {call.error}", calls) from error
        wait = retry.delay(attempt, _retry_after(error))
        call.extra["retry_in_s"] = wait
        time.sleep(wait)
    raise AssertionError("unreachable")


def _attempt(
    endpoint: ModelEndpoint,
    messages: list[dict[str, str]],
    schema: dict[str, Any],
    schema_name: str,
    max_tokens: int,
    temperature: float,
    logprobs: bool = False,
) -> tuple[ModelCall, Exception | None, list[dict[str, Any]]]:
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    response_format = {"type": "json_schema", "json_schema": {"name": schema_name, "schema": schema, "strict": True}}
    request: dict[str, Any] = {"messages": messages, "response_format": response_format, "max_tokens": max_tokens,
                               "temperature": temperature}
    if logprobs:
        request.update(logprobs=True, top_logprobs=5)
    call = ModelCall(model=endpoint.model, prompt_hash=prompt_hash(messages, schema), request=request)
    started = time.perf_counter()
    try:
        if endpoint.router is not None:
            response = endpoint.router.completion(model=endpoint.router_group, **request)
            hidden = getattr(response, "_hidden_params", {}) or {}
            call.extra["deployment"] = (hidden.get("litellm_model_name") or hidden.get("model_id"))
        else:
            response = litellm.completion(
                model=endpoint.model,
                api_base=endpoint.api_base,
                api_key=endpoint.api_key or ("sk-local" if endpoint.api_base else None),
                timeout=endpoint.timeout_s,
                num_retries=0,
                max_retries=0,  # the OpenAI SDK's own retries would hide attempts from the log
                **request,
            )
    except Exception as error:  # litellm maps provider errors to many classes; all are a failed attempt here
        call.latency_ms = (time.perf_counter() - started) * 1000
        call.outcome = "error"
        call.error = f"{type(error).__name__}: {error}"
        return call, error, []
    call.latency_ms = (time.perf_counter() - started) * 1000
    choice = response.choices[0]
    call.response_text = choice.message.content or ""
    usage = getattr(response, "usage", None)
    if usage:
        call.prompt_tokens = getattr(usage, "prompt_tokens", None)
        call.completion_tokens = getattr(usage, "completion_tokens", None)
        details = getattr(usage, "prompt_tokens_details", None)
        call.cached_tokens = getattr(details, "cached_tokens", None) if details else None
    # litellm prices the response while logging it; pricing it again here cost a millisecond a call. Unknown
    # models (the local one) have no price: the cost stays unknown, not zero.
    cost = (getattr(response, "_hidden_params", None) or {}).get("response_cost")
    call.cost_usd = float(cost) if cost is not None else None
    call.extra["finish_reason"] = choice.finish_reason
    if choice.finish_reason == "length":
        call.outcome = "truncated"
        call.error = f"the answer was cut at {max_tokens} tokens (raise ICEBERG_LLM_MAX_OUTPUT_TOKENS)"
        return call, ValueError(call.error), []
    call.outcome = "ok"
    token_logprobs: list[dict[str, Any]] = []
    content = getattr(getattr(choice, "logprobs", None), "content", None) if logprobs else None
    for entry in content or []:
        item = entry if isinstance(entry, dict) else entry.model_dump()
        token_logprobs.append(item)
    return call, None, token_logprobs
