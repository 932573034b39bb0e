"""The digit server: a threading HTTP server around one loaded model, with clean shutdown."""

from __future__ import annotations

import logging
import signal
import socket
import socketserver
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ..classifier import Classifier
from ..errors import EdgeMnistError
from .auth import check_token
from .handler import Handler
from .limits import Limits
from .service import DigitService

log = logging.getLogger("edge_mnist.serve")

STATIC = Path(__file__).with_name("static")
_STATIC_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Retry-After: 1\r\nConnection: close\r\nContent-Length: 86\r\n\r\n"
    b'{"error":"the server is busy: too many open connections.","fix":"retry in a moment."}\n'
)


class DigitServer(ThreadingHTTPServer):
    """One thread per connection (at most ``limits.max_connections``), one shared model."""

    daemon_threads = True  # idle keep-alive connections must not hold up the exit
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        service: DigitService,
        limits: Limits,
        token: str | None = None,
    ) -> None:
        self.service = service
        # None: no authentication. Else /predict, /info and /metrics need "Bearer <token>".
        self.token = check_token(token)
        self.metrics = service.metrics
        self.limits = limits
        self.static = {
            name: (ctype, (STATIC / name).read_bytes()) for name, ctype in _STATIC_TYPES.items()
        }
        self._slots = threading.BoundedSemaphore(limits.max_connections)
        self._busy = 0
        self._busy_lock = threading.Condition()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        try:
            super().__init__(address, Handler)
        except (OSError, OverflowError) as exc:
            host, port = address
            reason = (getattr(exc, "strerror", None) or str(exc)).rstrip(".")
            fix = (
                "check --host: use 127.0.0.1, 0.0.0.0 or an address of this machine."
                if isinstance(exc, socket.gaierror) or getattr(exc, "errno", None) == 99
                else "choose another --port (0 picks a free one), or stop what is using it."
            )
            raise EdgeMnistError(f"cannot listen on {host}:{port}: {reason}.", fix) from None

    @property
    def url(self) -> str:
        """Where clients reach the server (a wildcard host is shown as localhost)."""
        host, port = str(self.server_address[0]), int(self.server_address[1])
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
        if ":" in shown and not shown.startswith("["):
            shown = f"[{shown}]"
        return f"http://{shown}:{port}/"

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which stalls on a board without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.metrics.rejected()
            _refuse(request)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that vanish or stall are routine; anything else is a bug worth a traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            log.debug("%s: connection error: %s", client_address[0], exc)
        else:
            log.exception("internal error serving %s", client_address[0])

    def busy(self, delta: int) -> None:
        """Count requests being answered (not idle connections), for a graceful stop."""
        with self._busy_lock:
            self._busy += delta
            if not self._busy:
                self._busy_lock.notify_all()

    def drain(self, grace: float) -> bool:
        """Wait up to ``grace`` seconds for requests being answered; True if none are left."""
        deadline = time.monotonic() + grace
        with self._busy_lock:
            while self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._busy_lock.wait(left)
        return True


def _refuse(request: socket.socket) -> None:
    try:
        request.settimeout(0.5)
        request.sendall(_BUSY)
    except OSError:
        pass


def make_server(
    model: Classifier | str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    backend: str | None = None,
    threads: int | None = None,
    limits: Limits | None = None,
    token: str | None = None,
) -> DigitServer:
    """Load the model (or take a loaded ``Classifier``) and bind the server; port 0 picks one.
    With ``token``, /predict, /info and /metrics answer 401 without "Authorization: Bearer
    <token>".

    The server is not running yet: call ``serve_forever(server)`` (blocking, with signal
    handling) or ``server.serve_forever()`` in a thread.
    """
    check_token(token)  # before loading the model
    service = DigitService.load(model, backend=backend, threads=threads)
    return DigitServer((host, port), service, limits or Limits(), token)


def serve_forever(server: DigitServer, grace: float = 5.0) -> None:
    """Serve until SIGINT or SIGTERM, then finish the requests in progress (up to ``grace``
    seconds) and close. Returns normally, so the process exits 0 after either signal."""

    def stop(signum: int, _frame: Any) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        # shutdown() waits for the serve loop, which runs in this very thread: ask from another.
        threading.Thread(target=server.shutdown, daemon=True).start()

    in_main = threading.current_thread() is threading.main_thread()
    previous = {}
    if in_main:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, stop)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        # Still ours while draining: a second Ctrl+C must not end it in a traceback.
        if not server.drain(grace):
            log.warning("stopped with requests still in progress after %.0f s", grace)
        server.server_close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
