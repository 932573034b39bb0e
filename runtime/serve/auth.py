"""Bearer-token access control for the API: which paths need it, and the comparison.

A server on a shared network (``--host 0.0.0.0``) otherwise lets anyone who can reach it use
the model and read its facts. With a token, /predict, /info and /metrics need the header
``Authorization: Bearer <token>``; the page, its files and /health stay open, so the page can
load and ask for the token, and a load balancer can probe without it. The comparison is
``hmac.compare_digest``: its time does not depend on where the first wrong byte is, so the
token cannot be guessed byte by byte from response times.
"""

from __future__ import annotations

import hmac

from ..errors import InvalidInputError

TOKEN_ENV = "EDGE_MNIST_TOKEN"
PROTECTED = ("/predict", "/info", "/metrics")
# Short tokens can be guessed over a LAN at thousands of tries a second.
MIN_LENGTH = 16
TOKEN_FIX = (
    f"use at least {MIN_LENGTH} printable ASCII characters without spaces, e.g. the output of "
    "python -c 'import secrets; print(secrets.token_urlsafe())'."
)


def check_token(token: str | None) -> str | None:
    """``token`` if it is usable (None stays None: no authentication); InvalidInputError if not."""
    if token is None:
        return None
    if len(token) < MIN_LENGTH or not (token.isascii() and token.isprintable()) or " " in token:
        raise InvalidInputError(
            f"the access token must be {MIN_LENGTH} or more printable ASCII characters "
            f"without spaces (got {len(token)} characters).",
            TOKEN_FIX,
        )
    return token


def authorized(header: str | None, token: str) -> bool:
    """Whether an Authorization header carries ``token`` as a Bearer credential."""
    scheme, _, given = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())
