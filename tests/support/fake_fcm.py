"""A local fake of Google's OAuth token endpoint and the FCM HTTP v1 send endpoint.

The real firebase-admin code talks to it: `service_account()` writes a service-account file whose
`token_uri` points here, and `FakeFcm.fcm_url` is what `messaging._MessagingService.FCM_URL` is
set to. Each test says how the fake answers, per registration token, with a script of replies
(consumed one per request; the last one repeats):

    fake.script("tok-1", Error(429, "QUOTA_EXCEEDED", retry_after=30), Ok())
    fake.default = Ok()

Replies: `Ok()`, `Error(status, fcm_code=None, retry_after=None)`, `Slow(seconds)` (answers 200 after
a pause), `Hold()` (keeps the request open until `release_held()`, then drops the connection
without an answer). `delivered` lists the messages answered 200, in order.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True)
class Ok:
    pass


@dataclass(frozen=True)
class Error:
    status: int
    fcm_code: str | None = None
    retry_after: int | None = None
    message: str = "error from the fake"


@dataclass(frozen=True)
class Slow:
    seconds: float


@dataclass(frozen=True)
class Hold:
    pass


Reply = Ok | Error | Slow | Hold


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the default 5 resets connections when a batch of 500 arrives


_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED"}


@dataclass
class FakeFcm:
    host: str = "127.0.0.1"
    default: Reply = field(default_factory=Ok)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    held: int = 0
    token_requests: int = 0
    unauthorised: int = 0
    hold_after: int | None = None  # once this many were delivered, hold every new request

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, list[Reply]] = {}
        self._seen: dict[str, int] = defaultdict(int)
        self._release = threading.Event()
        self._access_token = "fake-access-token"
        self._server = _Server((self.host, 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-fcm")

    # ---- control ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def token_uri(self) -> str:
        return f"{self.base_url}/token"

    @property
    def fcm_url(self) -> str:
        """The value for `messaging._MessagingService.FCM_URL` ({0} is the project id)."""
        return self.base_url + "/v1/projects/{0}/messages:send"

    def script(self, token: str, *replies: Reply) -> None:
        with self._lock:
            self._scripts[token] = list(replies)

    def release_held(self) -> None:
        self._release.set()

    def hold_new_requests(self) -> None:
        self._release.clear()

    def delivered_tokens(self) -> list[str]:
        with self._lock:
            return [m["token"] for m in self.delivered]

    def start(self) -> FakeFcm:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeFcm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- behaviour -------------------------------------------------------------------------
    def _next_reply(self, token: str) -> Reply:
        with self._lock:
            self.requests += 1
            if self.hold_after is not None and len(self.delivered) >= self.hold_after:
                return Hold()
            script = self._scripts.get(token)
            if not script:
                return self.default
            i = self._seen[token]
            self._seen[token] += 1
            return script[min(i, len(script) - 1)]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(
                self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/token":
                    with fake._lock:
                        fake.token_requests += 1
                    self._reply(
                        200,
                        {"access_token": fake._access_token, "expires_in": 3600, "token_type": "Bearer"},
                    )
                    return
                if not (self.path.startswith("/v1/projects/") and self.path.endswith("/messages:send")):
                    self._reply(
                        404, {"error": {"code": 404, "message": "no such path", "status": "NOT_FOUND"}}
                    )
                    return
                if self.headers.get("Authorization") != f"Bearer {fake._access_token}":
                    with fake._lock:
                        fake.unauthorised += 1
                    self._reply(
                        401, {"error": {"code": 401, "message": "no token", "status": "UNAUTHENTICATED"}}
                    )
                    return
                message = json.loads(raw)["message"]
                reply = fake._next_reply(message.get("token", ""))
                if isinstance(reply, Hold):
                    with fake._lock:
                        fake.held += 1
                    fake._release.wait()
                    self.close_connection = True  # drop it: the client never learns the outcome
                    return
                if isinstance(reply, Slow):
                    time.sleep(reply.seconds)
                    reply = Ok()
                if isinstance(reply, Ok):
                    with fake._lock:
                        fake.delivered.append(message)
                        n = len(fake.delivered)
                    project = self.path.split("/")[3]
                    self._reply(200, {"name": f"projects/{project}/messages/{n}"})
                    return
                error: dict[str, Any] = {
                    "code": reply.status,
                    "message": reply.message,
                    "status": _STATUS.get(reply.status, "INTERNAL" if reply.status >= 500 else "UNKNOWN"),
                }
                if reply.fcm_code:
                    error["details"] = [
                        {
                            "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                            "errorCode": reply.fcm_code,
                        }
                    ]
                headers = {"Retry-After": str(reply.retry_after)} if reply.retry_after is not None else None
                self._reply(reply.status, {"error": error}, headers)

        return Handler


def service_account(path: Path, token_uri: str, project_id: str = "phananh-test") -> Path:
    """Write a service-account JSON with a fresh RSA key whose token_uri is the fake's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": project_id,
                "private_key_id": "fake-key-1",
                "private_key": pem,
                "client_email": f"push@{project_id}.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": token_uri,
            }
        )
    )
    return path
