"""The HTTP side of one connection: routing, responses, JSON errors and the access log."""

from __future__ import annotations

import json
import logging
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from ..errors import EdgeMnistError
from .auth import PROTECTED, TOKEN_ENV, authorized
from .body import PREDICT_FIX, HttpError, content_length, drain, has_body, read_exactly, too_large

if TYPE_CHECKING:
    from .server import DigitServer

log = logging.getLogger("edge_mnist.serve")
access_log = logging.getLogger("edge_mnist.serve.access")

# Path -> the methods it answers (HEAD goes wherever GET does).
ROUTES: dict[str, tuple[str, ...]] = {
    "/": ("GET",),
    "/index.html": ("GET",),
    "/app.js": ("GET",),
    "/style.css": ("GET",),
    "/favicon.ico": ("GET",),
    "/health": ("GET",),
    "/info": ("GET",),
    "/metrics": ("GET",),
    "/predict": ("POST",),
}
_TRUE = ("1", "true", "yes", "on")
AUTH_FIX = (
    "send the header 'Authorization: Bearer <token>' with the token the server was started "
    f"with (--token or {TOKEN_ENV})."
)


class Handler(BaseHTTPRequestHandler):
    """Serves the page, the JSON API and the metrics; one instance per connection."""

    server: DigitServer
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse the connection
    server_version = "edge-mnist"

    def setup(self) -> None:
        # Per-connection socket timeout: a silent or half-open client is dropped after it.
        self.request.settimeout(self.server.limits.timeout)
        self._body_read = False
        self._linger = False
        super().setup()

    def finish(self) -> None:
        super().finish()
        if self._linger:
            drain(self.connection)

    def handle_expect_100(self) -> bool:
        """Refuse a too-large body before the client sends it (curl asks for large uploads)."""
        raw = self.headers.get("Content-Length", "")
        if raw.isdigit() and int(raw) > self.server.limits.max_body:
            self._body_read = True  # the client waits for our answer and sends no body
            exc = too_large(int(raw), self.server.limits.max_body)
            self._send_error_json(413, exc.problem, exc.fix)
            self.close_connection = True
            return False
        return super().handle_expect_100()

    # One method per HTTP verb, as http.server wants; all share the router.
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_OPTIONS(self) -> None:
        self._dispatch("OPTIONS")

    def _dispatch(self, method: str) -> None:
        start = time.perf_counter()
        self._body_read = False
        url = urlsplit(self.path)
        route = url.path if url.path in ROUTES else "other"
        status, images = 500, 0
        self.server.busy(+1)
        try:
            allowed = ROUTES.get(url.path)
            if allowed is None:
                raise HttpError(404, f"no such endpoint: {url.path}.", _endpoints_fix())
            if method not in allowed and not (method == "HEAD" and "GET" in allowed):
                raise HttpError(
                    405,
                    f"{url.path} does not accept {method}.",
                    f"use {' or '.join(allowed)}.",
                )
            token = self.server.token
            if (
                token
                and url.path in PROTECTED
                and not authorized(self.headers.get("Authorization"), token)
            ):
                raise HttpError(401, f"{url.path} needs the access token.", AUTH_FIX)
            status, images = self._answer(url.path, url.query, method)
        except HttpError as exc:
            status = exc.status
            self._send_error_json(exc.status, exc.problem, exc.fix, allow=ROUTES.get(url.path))
        except EdgeMnistError as exc:
            status = 400
            self._send_error_json(400, exc.problem, exc.fix)
        except TimeoutError:
            status = 408
            self.server.metrics.timeout()
            self.close_connection = True
            log.debug("%s: timed out reading the request body", self.client_address[0])
        except ConnectionError:
            status = 499  # the client went away mid-request
            self.close_connection = True
        except Exception:
            status = 500
            log.exception("internal error answering %s %s", method, url.path)
            self._send_error_json(
                500, "internal error in the server.", "this is a bug; the log has the details."
            )
        finally:
            self.server.busy(-1)
        seconds = time.perf_counter() - start
        self.server.metrics.request(route, status, seconds, images)
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                '%s "%s %s" %d %.1fms',
                self.client_address[0],
                method,
                url.path[:80],
                status,
                seconds * 1e3,
            )

    def _answer(self, path: str, query: str, method: str) -> tuple[int, int]:
        """Send the response for a routed request; returns (status, images classified)."""
        service = self.server.service
        if path == "/predict":
            body = self._read_body()
            want = parse_qs(query).get("preprocessed", ["0"])[-1].lower() in _TRUE
            result = service.predict(self.headers.get("Content-Type"), body, want)
            self._send_json(200, result)
            return 200, result["count"]
        if path == "/health":
            health = service.health()
            status = 200 if health["status"] == "ok" else 503  # the self-test failed
            self._send_json(status, health)
            return status, 0
        elif path == "/info":
            self._send_json(200, service.info)
        elif path == "/metrics":
            text = service.metrics.render().encode()
            self._send(200, "text/plain; version=0.0.4; charset=utf-8", text, method)
        elif path == "/favicon.ico":
            self._send(204, "image/x-icon", b"", method)
            return 204, 0
        else:
            name = "index.html" if path in ("/", "/index.html") else path.lstrip("/")
            content_type, data = self.server.static[name]
            self._send(200, content_type, data, method)
        return 200, 0

    def _read_body(self) -> bytes:
        """The request body, refused early when too large and cut off when too slow."""
        limits = self.server.limits
        length = content_length(self.headers, limits.max_body)
        if length == 0:
            self._body_read = True
            raise HttpError(400, "the request body is empty.", PREDICT_FIX)
        body = read_exactly(self.rfile, length, limits.body_deadline)
        self._body_read = True
        return body

    def _send_json(self, status: int, doc: Any, allow: tuple[str, ...] | None = None) -> None:
        data = json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()
        self._send(status, "application/json", data, self.command, allow)

    def _send_error_json(
        self, status: int, problem: str, fix: str | None, allow: tuple[str, ...] | None = None
    ) -> None:
        self._send_json(status, {"error": problem, "fix": fix}, allow if status == 405 else None)

    def _send(
        self,
        status: int,
        content_type: str,
        data: bytes,
        method: str,
        allow: tuple[str, ...] | None = None,
    ) -> None:
        if not self._body_read and has_body(getattr(self, "headers", None)):
            # An unread body would be taken for the next request: close the connection instead.
            self.close_connection = True
            self._linger = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if content_type.startswith("text/html"):
            # Everything the page needs comes from this server: no CDN, no inline script.
            self.send_header(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'",
            )
        if status == 401:
            self.send_header("WWW-Authenticate", 'Bearer realm="edge-mnist"')
        if allow:
            methods = ("HEAD", *allow) if "GET" in allow else allow
            self.send_header("Allow", ", ".join(methods))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors found by http.server itself (bad request line, huge headers, unknown
        method) get the same JSON shape as the API's errors."""
        self.close_connection = True
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        problem = f"{message or phrase}."
        self._send_json(code, {"error": problem, "fix": explain})

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Silence http.server's own access log: ``_dispatch`` writes one compact line."""

    def log_error(self, format: str, *args: Any) -> None:
        # Timeouts and garbage request lines are the client's problem, not the server's.
        log.debug("%s: " + format, self.client_address[0], *args)


def _endpoints_fix() -> str:
    return "the endpoints are GET /, /health, /info, /metrics and POST /predict."
