"""A local fake of Google's OAuth token endpoint and the FCM HTTP v1 send endpoint.

The real firebase-admin code talks to it: `service_account()` writes a service-account file whose
`token_uri` points here, and `FakeFcm.fcm_url` is what `messaging._MessagingService.FCM_URL` is
set to.

Like Google, the token endpoint only answers a JWT assertion signed (RS256) with a key of a known
service account (the ones `service_account()` wrote for this fake), with Google's token endpoint
as audience, a lifetime of at most an hour and a non-empty scope; its access tokens expire after
`token_lifetime_s` by the fake's clock (`advance()` moves it on). The send endpoint answers 401 to
a missing, unknown or expired access token, and to the next n valid ones after `unauthorise_next(n)`
(a token revoked behind the client's back); firebase-admin then fetches a new token and resends.

Each test says how the fake answers, per registration token, with a script of replies
(consumed one per request; the last one repeats):

    fake.script("tok-1", Error(429, "QUOTA_EXCEEDED", retry_after=30), Ok())
    fake.default = Ok()

Replies: `Ok()`, `Error(status, fcm_code=None, retry_after=None)` (`retry_after`: seconds, or a
string sent as is, e.g. an HTTP date), `Slow(seconds)` (answers 200 after a pause), `Hold()`
(keeps the request open until `release_held()`, then drops the connection without an answer).
`delivered` lists the messages answered 200, in order.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


@dataclass(frozen=True)
class Ok:
    pass


@dataclass(frozen=True)
class Error:
    status: int
    fcm_code: str | None = None
    retry_after: int | str | None = None
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

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # what Google requires as `aud`
FCM_SCOPES = frozenset(
    {"https://www.googleapis.com/auth/firebase.messaging", "https://www.googleapis.com/auth/cloud-platform"}
)
CLOCK_SKEW_S = 60  # how far in the future an assertion's `iat` may be

_RUNNING: weakref.WeakValueDictionary[str, FakeFcm] = weakref.WeakValueDictionary()  # by token_uri


class TokenRefused(Exception):
    """Why the token endpoint refused an assertion: an OAuth error code and its description."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description = error, description


@dataclass(frozen=True)
class _AccessToken:
    expires_at: float  # by the fake's clock
    scopes: frozenset[str]


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@dataclass
class FakeFcm:
    host: str = "127.0.0.1"
    default: Reply = field(default_factory=Ok)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    held: int = 0
    token_requests: int = 0  # every request to the token endpoint, granted or not
    tokens_issued: int = 0
    refused: list[str] = field(default_factory=list)  # why each refused assertion was refused
    unauthorised: int = 0  # sends answered 401
    hold_after: int | None = None  # once this many were delivered, hold every new request
    token_lifetime_s: float = 3600.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, list[Reply]] = {}
        self._seen: dict[str, int] = defaultdict(int)
        self._release = threading.Event()
        self._keys: dict[str, dict[str, rsa.RSAPublicKey]] = defaultdict(dict)  # email → kid → key
        self._tokens: dict[str, _AccessToken] = {}
        self._clock_offset = 0.0
        self._reject_valid = 0
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

    def now(self) -> float:
        """The fake's clock: wall time, moved on by `advance()`."""
        return time.time() + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Let time pass for the fake (not for the client): its access tokens age by `seconds`.
        Assertions are judged by this clock too, so keep it within an hour of the client's."""
        with self._lock:
            self._clock_offset += seconds

    def unauthorise_next(self, n: int = 1) -> None:
        """Answer the next `n` sends 401 even when their access token is valid."""
        with self._lock:
            self._reject_valid += n

    def trust(self, client_email: str, key_id: str, public_key: rsa.RSAPublicKey) -> None:
        """Accept assertions from `client_email` signed by this key (a key made for the account)."""
        with self._lock:
            self._keys[client_email][key_id] = public_key

    def release_held(self) -> None:
        self._release.set()

    def hold_new_requests(self) -> None:
        self._release.clear()

    def delivered_tokens(self) -> list[str]:
        with self._lock:
            return [m["token"] for m in self.delivered]

    def start(self) -> FakeFcm:
        self._thread.start()
        _RUNNING[self.token_uri] = self
        return self

    def stop(self) -> None:
        _RUNNING.pop(self.token_uri, None)
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeFcm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- behaviour -------------------------------------------------------------------------
    def _grant(self, form: dict[str, list[str]]) -> tuple[str, float]:
        """Check a JWT-bearer grant as Google does; a new access token and its lifetime, or TokenRefused."""
        if form.get("grant_type") != [JWT_BEARER]:
            raise TokenRefused("unsupported_grant_type", "Invalid grant_type.")
        [assertion] = form.get("assertion") or [""]
        try:
            head_b64, claims_b64, sig_b64 = assertion.split(".")
            header = json.loads(_b64url(head_b64))
            claims = json.loads(_b64url(claims_b64))
            signature = _b64url(sig_b64)
        except ValueError:
            raise TokenRefused("invalid_request", "Invalid JWT: not a signed JWT.") from None
        if header.get("alg") != "RS256":
            raise TokenRefused("invalid_grant", "Invalid JWT: the signing algorithm must be RS256.")
        with self._lock:
            keys = dict(self._keys.get(str(claims.get("iss")), {}))
        if not keys:
            raise TokenRefused("invalid_grant", "Invalid grant: account not found")
        kid = header.get("kid")
        candidates = [keys[kid]] if kid in keys else [] if kid else list(keys.values())
        signed = f"{head_b64}.{claims_b64}".encode()
        if not any(_verifies(k, signature, signed) for k in candidates):
            raise TokenRefused("invalid_grant", "Invalid JWT Signature.")
        if claims.get("aud") != GOOGLE_TOKEN_AUDIENCE:
            raise TokenRefused("invalid_grant", "Invalid JWT: Failed audience check.")
        iat, exp, now = claims.get("iat"), claims.get("exp"), self.now()
        if (
            not isinstance(iat, int)
            or not isinstance(exp, int)
            or not iat - CLOCK_SKEW_S <= now < exp
            or exp - iat > 3600
        ):
            raise TokenRefused(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
                "timeframe. Check your iat and exp values in the JWT claim.",
            )
        scopes = frozenset(str(claims.get("scope") or "").split())
        if not scopes:
            raise TokenRefused("invalid_scope", "Empty or missing scope not allowed.")
        token = "fake." + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = _AccessToken(now + self.token_lifetime_s, scopes)
            self.tokens_issued += 1
        return token, self.token_lifetime_s

    def _authorise(self, authorization: str | None) -> tuple[int, str] | None:
        """None when a send with this Authorization header may go ahead, else (status, message)."""
        scheme, _, token = (authorization or "").partition(" ")
        with self._lock:
            issued = self._tokens.get(token) if scheme == "Bearer" else None
            if issued is None or issued.expires_at <= self.now():
                return 401, "Request had invalid authentication credentials. Expected OAuth 2 access token."
            if self._reject_valid:
                self._reject_valid -= 1
                return 401, "Request had invalid authentication credentials (token revoked)."
            if not issued.scopes & FCM_SCOPES:
                return 403, "Request had insufficient authentication scopes."
        return None

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
                    try:
                        token, lifetime = fake._grant(parse_qs(raw.decode()))
                    except TokenRefused as refused:
                        with fake._lock:
                            fake.refused.append(str(refused))
                        self._reply(400, {"error": refused.error, "error_description": refused.description})
                        return
                    self._reply(
                        200, {"access_token": token, "expires_in": int(lifetime), "token_type": "Bearer"}
                    )
                    return
                if not (self.path.startswith("/v1/projects/") and self.path.endswith("/messages:send")):
                    self._reply(
                        404, {"error": {"code": 404, "message": "no such path", "status": "NOT_FOUND"}}
                    )
                    return
                denied = fake._authorise(self.headers.get("Authorization"))
                if denied is not None:
                    status, why = denied
                    if status == 401:
                        with fake._lock:
                            fake.unauthorised += 1
                    code = "UNAUTHENTICATED" if status == 401 else "PERMISSION_DENIED"
                    self._reply(status, {"error": {"code": status, "message": why, "status": code}})
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


def _verifies(key: rsa.RSAPublicKey, signature: bytes, signed: bytes) -> bool:
    try:
        key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def service_account(
    path: Path, token_uri: str, project_id: str = "phananh-test", *, trusted: bool = True
) -> Path:
    """Write a service-account JSON with a fresh RSA key whose token_uri is a fake's, and make that
    fake (if it is running) trust the key; `trusted=False` gives a key it never heard of."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_id = uuid.uuid4().hex
    client_email = f"push@{project_id}.iam.gserviceaccount.com"
    fake = _RUNNING.get(token_uri)
    if trusted and fake is not None:
        fake.trust(client_email, key_id, key.public_key())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": project_id,
                "private_key_id": key_id,
                "private_key": pem,
                "client_email": client_email,
                "client_id": "1",
                "token_uri": token_uri,
            }
        )
    )
    return path
