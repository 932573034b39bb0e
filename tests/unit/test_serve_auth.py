"""serve on a shared network: the access token on the API, the start-up self-test in /health,
and the warning when listening beyond loopback without a token."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_mnist.runtime.errors import InvalidInputError
from edge_mnist.runtime.serve import DigitServer, make_server
from edge_mnist.runtime.serve.auth import authorized, check_token
from edge_mnist.runtime.serve.selftest import drawn_one, self_test

pytestmark = pytest.mark.device

TOKEN = "s3cret-token-for-the-tests"
SERVE = [sys.executable, "-m", "edge_mnist.runtime.serve"]


@pytest.fixture(scope="module")
def server(tiny: Path) -> Iterator[DigitServer]:
    srv = make_server(tiny / "model_int8.tflite", "127.0.0.1", 0, token=TOKEN)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def request(
    srv: DigitServer, method: str, path: str, body: bytes | None = None, auth: str | None = None
) -> tuple[int, http.client.HTTPResponse, bytes]:
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
    headers = {"Content-Type": "image/png"} if body is not None else {}
    if auth is not None:
        headers["Authorization"] = auth
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp, resp.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/predict"), ("GET", "/info"), ("GET", "/metrics")]
)
def test_the_api_needs_the_token(server: DigitServer, method: str, path: str) -> None:
    body = drawn_one()[1] if method == "POST" else None
    for wrong in (None, "", f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN):
        status, resp, data = request(server, method, path, body, wrong)
        assert status == 401, wrong
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="edge-mnist"'
        doc = json.loads(data)
        assert doc["error"] == f"{path} needs the access token."
        assert "Authorization: Bearer" in doc["fix"] and "EDGE_MNIST_TOKEN" in doc["fix"]
    status, _, data = request(server, method, path, body, f"Bearer {TOKEN}")
    assert status == 200
    if path == "/predict":
        assert json.loads(data)["digits"] == [1]
    # The scheme is case-insensitive (RFC 7235), the token is not.
    assert request(server, method, path, body, f"bearer {TOKEN}")[0] == 200
    assert request(server, method, path, body, f"Bearer {TOKEN.upper()}")[0] == 401


def test_page_and_health_stay_open(server: DigitServer) -> None:
    for path in ("/", "/app.js", "/style.css"):
        assert request(server, "GET", path)[0] == 200
    status, _, data = request(server, "GET", "/health")
    health = json.loads(data)
    assert status == 200 and health["status"] == "ok"
    test = health["selftest"]
    assert (test["passed"], test["checked"], test["failures"]) == (True, 1, [])
    assert 0 < test["ms"] < 5000


def test_failed_401s_are_counted(server: DigitServer) -> None:
    request(server, "GET", "/info")
    status, _, data = request(server, "GET", "/metrics", auth=f"Bearer {TOKEN}")
    assert status == 200
    assert 'route="/info",status="401"' in data.decode()


def test_a_failing_self_test_is_reported() -> None:
    name, png, digit = drawn_one()
    report = self_test(lambda _png: 7, [(name, png, digit), ("another", png, 7)])
    assert report["passed"] is False and report["checked"] == 2
    assert report["failures"] == [{"case": "a drawn 1", "expected": 1, "got": 7}]


def test_tokens_are_checked() -> None:
    assert check_token(None) is None
    assert check_token(TOKEN) == TOKEN
    for bad in ("short", "has a space in it here", "ünïcode-token-long-enough"):
        with pytest.raises(InvalidInputError, match="16 or more printable ASCII"):
            check_token(bad)
    assert authorized(f"Bearer  {TOKEN} ", TOKEN)
    assert not authorized(None, TOKEN)


def _serve_briefly(tiny: Path, *args: str, env_token: str | None = None) -> str:
    """Start `python -m ...serve`, read its start-up lines, stop it; return stdout + stderr."""
    import os
    import signal

    env = {k: v for k, v in os.environ.items() if k != "EDGE_MNIST_TOKEN"}
    if env_token:
        env["EDGE_MNIST_TOKEN"] = env_token
    proc = subprocess.Popen(
        [*SERVE, str(tiny / "model_int8.tflite"), "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "Ctrl+C" in line:
            break
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    return "".join(lines) + out + err


def test_warning_beyond_loopback_without_a_token(tiny: Path) -> None:
    text = _serve_briefly(tiny, "--host", "0.0.0.0")
    assert "warning: listening beyond this machine without an access token" in text
    text = _serve_briefly(tiny, "--host", "0.0.0.0", env_token=TOKEN)
    assert "warning" not in text and "need 'Authorization: Bearer <token>'" in text
    assert "warning" not in _serve_briefly(tiny)  # loopback


def test_a_short_token_is_refused_at_start(tiny: Path) -> None:
    proc = subprocess.run(
        [*SERVE, str(tiny / "model_int8.tflite"), "--port", "0", "--token", "abc"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "access token must be 16 or more" in proc.stderr and "secrets" in proc.stderr


@pytest.mark.parametrize(
    ("values", "env"),
    [({"token": ""}, None), ({"token": None}, ""), ({"token": ""}, TOKEN)],
    ids=["empty-option", "empty-env", "empty-option-beats-env"],
)
def test_an_explicitly_empty_token_is_refused(
    values: dict[str, str | None], env: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An empty --token or EDGE_MNIST_TOKEN= is a token the operator meant to set: serving without
    # authentication instead would expose the model, so it is bad input (exit 2), not "no token".
    from edge_mnist.runtime.serve.auth import TOKEN_ENV
    from edge_mnist.runtime.serve.options import access_token

    if env is None:
        monkeypatch.delenv(TOKEN_ENV, raising=False)
    else:
        monkeypatch.setenv(TOKEN_ENV, env)
    with pytest.raises(InvalidInputError, match="access token"):
        access_token(values)


def test_an_absent_token_means_no_authentication_and_the_env_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from edge_mnist.runtime.serve.auth import TOKEN_ENV
    from edge_mnist.runtime.serve.options import access_token

    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert access_token({"token": None}) is None
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    assert access_token({}) == TOKEN
    assert access_token({"token": TOKEN + "x"}) == TOKEN + "x"
