"""What one client may cost the server, and the size strings (4M, 512k) its options take.

Apart from the server so that the command lines (serve's options, and help listing every
command) can read the defaults without loading http.server."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import EdgeMnistError


@dataclass(frozen=True)
class Limits:
    """What one client may cost the server."""

    max_body: int = 4 * 1024 * 1024
    """Largest request body in bytes; larger ones get 413 before they are read."""
    timeout: float = 10.0
    """Seconds a connection may stay silent (idle keep-alive, half-open or slow clients)."""
    body_deadline: float = 30.0
    """Seconds a request body may take to arrive in full, however steadily it trickles."""
    max_connections: int = 64
    """Connections served at once; more are answered 503 straight away."""

    def __post_init__(self) -> None:
        for name in ("max_body", "timeout", "body_deadline", "max_connections"):
            if getattr(self, name) <= 0:
                raise EdgeMnistError(
                    f"{name.replace('_', '-')} must be positive, got {getattr(self, name)}."
                )


_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3}


def parse_size(text: str) -> int:
    """Bytes from '4194304', '512k', '4M' or '4MB' (binary units)."""
    raw = text.strip().lower()
    digits = raw.rstrip("bkmg")
    unit = raw[len(digits) :]
    try:
        value = float(digits)
    except ValueError:
        value = -1.0
    if unit not in _UNITS or not value > 0:
        raise EdgeMnistError(
            f"invalid size {text!r}.", "give a positive number of bytes, e.g. 4M, 512k or 1000000."
        )
    return int(value * _UNITS[unit])
