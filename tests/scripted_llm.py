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
    for cid, spec in schema["properties"].items():
        if cid == "critical":
            answer[cid] = critical or []
            continue
        quotes = [q for q in spec["properties"]["quote"].get("enum", ["您好"]) if q]
        turns = [t for t in spec["properties"]["turn"].get("enum", [1]) if t] or [0]
        value = score(cid, user_text)
        answer[cid] = {
            "turn": turns[0] if value is not None else 0,
            "quote": quotes[0] if value is not None else "",
            "why": "scripted",
            "score": value,
        }
    return json.dumps(answer, ensure_ascii=False)


@dataclass
class ScriptedLLM:
    """Call ``handler(request) -> Reply``; defaults to a schema-valid answer with every score 3."""

    handler: Callable[[dict[str, Any]], Reply] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    delay_s: float = 0.0

    def __post_init__(self) -> None:
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

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
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                scripted.requests.append(body)
                if scripted.delay_s:
                    time.sleep(scripted.delay_s)
                handler = scripted.handler or (lambda r: (200, completion(answer_from_schema(r)), {}))
                status, reply, headers = handler(body)
                payload = reply if isinstance(reply, str) else json.dumps(reply, ensure_ascii=False)
                data = payload.encode()
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
