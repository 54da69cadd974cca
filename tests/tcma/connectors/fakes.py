"""Local fake servers answering as the networks do: the shared base, `serve`, a webhook receiver.

Mastodon and Bluesky live in fake_mastodon.py and fake_bluesky.py. Each fake is a small WSGI app
served on a loopback port (`serve`). Every fake checks the headers the real
API requires, records what it accepted, and can be told to fail the next calls of a path
(`fail_next`) or to answer them only after a delay (`slow_next`), after having done the work.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


class QuietHandler(WSGIRequestHandler):
    """No access log lines in the test output."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class Scripted:
    """An answer the fake gives instead of the real one, `times` times."""

    status: int
    body: Any
    headers: dict[str, str]
    times: int


class FakeNetwork:
    """What every fake shares: scripted failures, slow answers, a request log."""

    def __init__(self) -> None:
        self.base_url = ""
        self.calls: list[tuple[str, str]] = []
        self.failures: dict[str, list[Scripted]] = {}
        self.delays: dict[str, list[float]] = {}
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.ids = itertools.count(1)

    def fail_next(self, path: str, status: int, body: Any, headers: dict[str, str] | None = None,
                  times: int = 1) -> None:
        """Answer the next `times` calls of `path` with `status` and `body` instead of doing the work."""
        self.failures.setdefault(path, []).append(Scripted(status, body, headers or {}, times))

    def slow_next(self, path: str, seconds: float) -> None:
        """Do the next call of `path`, then wait `seconds` before answering."""
        self.delays.setdefault(path, []).append(seconds)

    def count(self, path: str) -> int:
        """How many calls of `path` arrived."""
        return sum(1 for _, p in self.calls if p == path)

    def __call__(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            self.calls.append((request.method, request.path))
            scripted = self._scripted(request.path)
            delay = self.delays[request.path].pop(0) if self.delays.get(request.path) else 0.0
        try:
            if scripted:
                response = self.json(scripted.body, scripted.status, scripted.headers)
            else:
                response = self.answer(request)
        finally:
            request.close()  # uploaded files are spooled to temporary files
        if delay:
            self.stopping.wait(delay)
        return response(environ, start_response)

    def _scripted(self, path: str) -> Scripted | None:
        queue = self.failures.get(path)
        if not queue:
            return None
        scripted = queue[0]
        scripted.times -= 1
        if scripted.times <= 0:
            queue.pop(0)
        return scripted

    def answer(self, request: Request) -> Response:
        raise NotImplementedError

    def json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(body), status=status, headers=headers or {}, mimetype="application/json")


@contextmanager
def serve(fake: FakeNetwork) -> Iterator[FakeNetwork]:
    """Serve `fake` on a free loopback port until the block ends; fake.base_url says where."""
    server = make_server("127.0.0.1", 0, fake, threaded=True, request_handler=QuietHandler)
    fake.base_url = f"http://127.0.0.1:{server.port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- Webhook ------------------------------------------------------------------------------------

@dataclass
class Delivery:
    """One verified event the receiver accepted."""

    message_id: str
    timestamp: int
    event: dict[str, Any]


class FakeWebhookReceiver(FakeNetwork):
    """A receiver that verifies Standard Webhooks signatures and drops a webhook-id it has already seen."""

    SECRET = "whsec_" + base64.b64encode(b"fake-receiver-secret-0123456789ab").decode()

    def __init__(self) -> None:
        super().__init__()
        self.deliveries: list[Delivery] = []

    def answer(self, request: Request) -> Response:
        message_id = request.headers.get("webhook-id")
        timestamp = request.headers.get("webhook-timestamp", "")
        signature = request.headers.get("webhook-signature", "")
        if not message_id or not timestamp.isdigit() or not signature:
            return self.json({"error": "missing webhook headers"}, 400)
        if abs(time.time() - int(timestamp)) > 300:
            return self.json({"error": "timestamp too old"}, 400)
        key = base64.b64decode(self.SECRET.removeprefix("whsec_"))
        expected = base64.b64encode(hmac.new(key, f"{message_id}.{timestamp}.".encode() + request.get_data(),
                                             hashlib.sha256).digest()).decode()
        offered = [part.split(",", 1)[1] for part in signature.split() if part.startswith("v1,")]
        if not any(hmac.compare_digest(expected, sig) for sig in offered):
            return self.json({"error": "bad signature"}, 401)
        if request.mimetype != "application/json":
            return self.json({"error": "not json"}, 415)
        known = [d for d in self.deliveries if d.message_id == message_id]
        if not known:
            self.deliveries.append(Delivery(message_id, int(timestamp), request.get_json()))
        return self.json({"id": f"hook-{message_id}", "url": f"{self.base_url}/posts/{message_id}"})
