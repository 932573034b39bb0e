"""Request bodies: the size limit checked before reading, a deadline while reading, and a
bounded drain of bodies the server refuses."""

from __future__ import annotations

import socket
import time
from email.message import Message
from io import BufferedIOBase

CHUNK = 64 * 1024
# After refusing a body, read and drop at most this much of it for at most this long.
LINGER_BYTES = 64 * 1024 * 1024
LINGER_SECONDS = 2.0
PREDICT_FIX = (
    "POST an image (PNG, JPEG, ...), multipart/form-data images, "
    'or JSON {"pixels": [...]} with 784 values per image.'
)


class HttpError(Exception):
    """A request the server refuses at the HTTP level (size, length, route, method)."""

    def __init__(self, status: int, problem: str, fix: str | None = None) -> None:
        super().__init__(problem)
        self.status, self.problem, self.fix = status, problem, fix


def too_large(length: int, limit: int) -> HttpError:
    """The 413 for a body of ``length`` bytes."""
    return HttpError(
        413,
        f"the body is {length:,} bytes; the limit is {limit:,} bytes.",
        "scale the image down, or split the batch over several requests.",
    )


def has_body(headers: Message | None) -> bool:
    """Whether the request announces a body (which must be read or the connection closed)."""
    if headers is None:  # the request line itself was bad
        return False
    length = headers.get("Content-Length", "0").strip()
    return length not in ("", "0") or "Transfer-Encoding" in headers


def content_length(headers: Message, max_body: int) -> int:
    """The announced body size, refused (HttpError) when absent, invalid, zero or too large."""
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        raise HttpError(
            411,
            "chunked request bodies are not supported.",
            "send the body with a Content-Length header.",
        )
    raw = headers.get("Content-Length")
    if raw is None:
        raise HttpError(411, "the request has no Content-Length header.", "send the body with one.")
    try:
        length = int(raw)
    except ValueError:
        length = -1
    if length < 0:
        raise HttpError(400, f"invalid Content-Length: {raw[:40]!r}.")
    if length > max_body:
        raise too_large(length, max_body)
    return length


def read_exactly(rfile: BufferedIOBase, length: int, deadline_s: float) -> bytes:
    """Read ``length`` bytes. Each read is bounded by the socket timeout and the whole body by
    ``deadline_s``, so a client trickling a byte at a time is cut off too (TimeoutError)."""
    deadline = time.monotonic() + deadline_s
    chunks, remaining = [], length
    while remaining:
        chunk = rfile.read1(min(remaining, CHUNK))
        if not chunk:
            raise ConnectionError("client closed the connection mid-body")
        chunks.append(chunk)
        remaining -= len(chunk)
        if remaining and time.monotonic() > deadline:
            raise TimeoutError
    return b"".join(chunks)


def drain(sock: socket.socket) -> None:
    """Read and drop what a refused client still sends, so that it sees our answer.

    Closing a socket with unread data makes the kernel reset the connection, and the client
    would then report "connection reset" instead of the 413. Bounded in time and bytes.
    """
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(0.5)
        deadline, budget = time.monotonic() + LINGER_SECONDS, LINGER_BYTES
        while budget > 0 and time.monotonic() < deadline:
            data = sock.recv(CHUNK)
            if not data:
                break
            budget -= len(data)
    except OSError:
        pass
