"""A minimal OpenAI-compatible chat completions server for tests: real HTTP, a real (small) model.

It serves SmolLM2 through the transformers backend with the request's JSON schema enforced and token
log-probabilities returned the way OpenAI-compatible servers (vLLM, llama.cpp) return them.

    python tests/openai_server.py PORT     # prints "ready PORT" when listening
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from qa_pipeline.judging.backends import TransformersBackend, TransformersConfig
from qa_pipeline.judging.prompt import JudgePrompt

BACKEND = TransformersBackend(TransformersConfig(model="bundled:smollm2", device="cpu"))


def completion(request: dict[str, Any]) -> dict[str, Any]:
    schema = request["response_format"]["json_schema"]["schema"]
    BACKEND.max_new_tokens = int(request.get("max_tokens") or 1500)
    attempt = 0 if float(request.get("temperature") or 0) == 0 else 1
    generation = BACKEND.generate(JudgePrompt(request["messages"], schema, ""), attempt=attempt)
    bounds = [*generation.token_offsets, len(generation.text)]
    content = []
    for index in range(len(generation.token_offsets)):
        token = generation.text[bounds[index] : bounds[index + 1]]
        alternatives = generation.alternatives(index)
        top = sorted(alternatives.items(), key=lambda pair: -pair[1])[: int(request.get("top_logprobs") or 0)]
        content.append(
            {
                "token": token,
                "logprob": alternatives.get(token, min(alternatives.values())),
                "bytes": None,
                "top_logprobs": [{"token": t, "logprob": lp, "bytes": None} for t, lp in top],
            }
        )
    finish = "length" if generation.completion_tokens >= BACKEND.max_new_tokens else "stop"
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": generation.text},
                "finish_reason": finish,
                "logprobs": {"content": content} if request.get("logprobs") else None,
            }
        ],
        "usage": {
            "prompt_tokens": generation.prompt_tokens,
            "completion_tokens": generation.completion_tokens,
            "total_tokens": generation.prompt_tokens + generation.completion_tokens,
        },
    }


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        if not self.path.endswith("/chat/completions"):
            self.send_error(404)
            return
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = json.dumps(completion(request)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print(f"ready {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
