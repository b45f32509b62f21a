"""A scripted OpenAI-compatible server over real HTTP, to drive the litellm path and its failure modes.

Each request is answered by a function of the request body; the server records every request it received so that
tests can assert what reached the "model" (for example, that no unmasked PII did).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

Reply = tuple[int, dict[str, Any] | str, dict[str, str]]  # status, body, headers


def completion(content: str, prompt_tokens: int = 100, completion_tokens: int = 50, finish_reason: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 0,
        "model": "scripted",
        "choices": [{"index": 0, "finish_reason": finish_reason, "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


def answer_from_schema(
    request: dict[str, Any],
    score: Callable[[str, str], int | None] = lambda cid, text: 3,
    critical: list[dict[str, Any]] | None = None,
) -> str:
    """A schema-valid answer: for each criterion the first allowed quote and a score chosen by ``score``."""
    schema = request["response_format"]["json_schema"]["schema"]
    user_text = request["messages"][-1]["content"]
    answer: dict[str, Any] = {}
    for cid in schema["properties"]:
        if cid == "critical":
            answer[cid] = critical or []
            continue
        quotes = [q for q in criterion_field(schema, cid, "quote").get("enum", ["您好"]) if q]
        turns = [t for t in criterion_field(schema, cid, "turn").get("enum", [1]) if t] or [0]
        value = score(cid, user_text)
        answer[cid] = {
            "turn": turns[0] if value is not None else 0,
            "quote": quotes[0] if value is not None else "",
            "why": "scripted",
            "score": value,
        }
    return json.dumps(answer, ensure_ascii=False)


def default_reply(request: dict[str, Any]) -> Reply:
    """A schema-valid answer; a request without a schema gets a 400 that says so, as a strict server would, rather
    than a dropped connection (a KeyError in the handler thread) that a client would retry as a network fault."""
    if "json_schema" not in (request.get("response_format") or {}):
        error = f"scripted server: no response_format.json_schema in the request (keys: {sorted(request)})"
        return 400, {"error": {"message": error, "type": "invalid_request_error"}}, {}
    return 200, completion(answer_from_schema(request)), {}


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """``node`` with its local ``$ref`` (``#/$defs/...``) followed, as a grammar compiler would."""
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].removeprefix("#/$defs/")]
    return node


def criterion_field(schema: dict[str, Any], criterion_id: str, name: str) -> dict[str, Any]:
    """The schema of one field (``turn``, ``quote``...) of a criterion's answer, references resolved."""
    criterion = resolve(schema, schema["properties"][criterion_id])
    return resolve(schema, criterion["properties"][name])


@dataclass
class ScriptedLLM:
    """Call ``handler(request) -> Reply``; defaults to a schema-valid answer with every score 3."""

    handler: Callable[[dict[str, Any]], Reply] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    delay_s: float = 0.0

    def __post_init__(self) -> None:
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real model servers do: no new connection per call
            disable_nagle_algorithm = True  # headers and body go out in two writes; Nagle would hold the second

            def log_message(self, *args: Any) -> None:
                pass

            def handle(self) -> None:
                try:
                    super().handle()
                except (ConnectionResetError, BrokenPipeError):
                    pass  # a client killed with its connection open (the kill -9 tests): nothing to answer

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                """``/v1/models``, as OpenAI-compatible servers answer it (readiness probes ask it)."""
                found = self.path.rstrip("/").endswith("/models")
                data = json.dumps({"object": "list", "data": [{"id": "scripted", "object": "model"}]}).encode()
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data) if found else 0))
                self.end_headers()
                if found:
                    self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                arrived = time.perf_counter()
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                scripted.requests.append(body)
                status, reply, headers = (scripted.handler or default_reply)(body)
                payload = reply if isinstance(reply, str) else json.dumps(reply, ensure_ascii=False)
                data = payload.encode()
                # The delay is the server's whole latency, its own work included, like a model with a fixed
                # answer time: the client's overhead is then whatever it measures beyond the delay.
                remaining = scripted.delay_s - (time.perf_counter() - arrived)
                if remaining > 0:
                    time.sleep(remaining)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and hung up, as the timeout tests intend

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def main() -> None:
    """Serve the default scripted answers from a process of its own (benchmarks: no GIL shared with the client)."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--delay-ms", type=float, default=0)
    args = parser.parse_args()
    server = ScriptedLLM(delay_s=args.delay_ms / 1000)
    print(server.api_base, flush=True)
    try:
        threading.Event().wait()
    finally:
        server.close()


if __name__ == "__main__":
    main()
