"""Counters for /metrics: requests, model calls, tokens, latency, assessments, the batch queue.

Kept in one registry of our own (not prometheus_client's global one) so that several apps in one process, as in
the tests, do not collide; lower layers record into it without knowing about the web app.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from service.llm.completion import ModelCall

REGISTRY = CollectorRegistry()

HTTP_REQUESTS = Counter("iceberg_http_requests", "HTTP requests served.", ["method", "route", "status"],
                        registry=REGISTRY)
HTTP_SECONDS = Histogram("iceberg_http_request_seconds", "HTTP request latency.", ["route"], registry=REGISTRY)
MODEL_CALLS = Counter("iceberg_model_calls", "Model calls by outcome.", ["model", "outcome"], registry=REGISTRY)
MODEL_TOKENS = Counter("iceberg_model_tokens", "Tokens by kind (prompt, completion, cached).", ["model", "kind"],
                       registry=REGISTRY)
MODEL_SECONDS = Histogram("iceberg_model_call_seconds", "Model call latency.", ["model"], registry=REGISTRY,
                          buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300))
ASSESSMENTS = Counter("iceberg_assessments", "Assessments by result (scored, failed, cached).", ["result"],
                      registry=REGISTRY)
QUEUE_DEPTH = Gauge("iceberg_batch_queue_depth", "Batch items waiting or running.", ["state"], registry=REGISTRY)


def observe_model_call(call: ModelCall) -> None:
    MODEL_CALLS.labels(call.model, call.outcome).inc()
    for kind, tokens in (("prompt", call.prompt_tokens), ("completion", call.completion_tokens),
                         ("cached", call.cached_tokens)):
        if tokens:
            MODEL_TOKENS.labels(call.model, kind).inc(tokens)
    if call.latency_ms is not None:
        MODEL_SECONDS.labels(call.model).observe(call.latency_ms / 1000)
