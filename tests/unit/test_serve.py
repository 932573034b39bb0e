"""The digit server over real HTTP: every endpoint, every error code, limits and concurrency."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import logging
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from edge_mnist.runtime.classifier import Classifier
from edge_mnist.runtime.describe import describe
from edge_mnist.runtime.preprocess import to_mnist
from edge_mnist.runtime.serve import DigitServer, Limits, make_server

pytestmark = pytest.mark.device

MAX_BODY = 256 * 1024
LIMITS = Limits(max_body=MAX_BODY, timeout=1.0, body_deadline=2.0, max_connections=32)


@pytest.fixture(scope="module")
def model(tiny: Path) -> Path:
    """The tiny int8 model (784-16-10) with its manifest: any exported model serves alike."""
    return tiny / "model_int8.tflite"


def _start(server: DigitServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    return thread


@pytest.fixture(scope="module")
def server(model: Path) -> Iterator[DigitServer]:
    srv = make_server(model, "127.0.0.1", 0, limits=LIMITS)
    thread = _start(srv)
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def clf(model: Path) -> Classifier:
    """A second, independent load of the model: the reference answers come from it."""
    return Classifier.load(model)


@pytest.fixture(scope="module")
def digits(framed_digits: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """200 MNIST-framed digit images (uint8, 784 each) and their labels."""
    return framed_digits


def request(
    srv: DigitServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, http.client.HTTPResponse, bytes]:
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp, resp.read()
    finally:
        conn.close()


def post_json(srv: DigitServer, doc: Any, path: str = "/predict") -> tuple[int, dict[str, Any]]:
    status, _, data = request(
        srv, "POST", path, json.dumps(doc).encode(), {"Content-Type": "application/json"}
    )
    return status, json.loads(data)


def png(image: np.ndarray, scale: int = 4) -> bytes:
    """An MNIST digit as a photo-like PNG: dark ink on white paper, enlarged."""
    im = Image.fromarray(255 - image.reshape(28, 28)).resize((28 * scale, 28 * scale))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def expected_for_png(clf: Classifier, data: bytes) -> Any:
    return clf.classify_image(Image.open(io.BytesIO(data)))


def multipart(files: list[tuple[str, bytes]], boundary: str = "xYzBoUnDaRy") -> tuple[bytes, str]:
    out = io.BytesIO()
    out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n'.encode())
    for name, data in files:
        out.write(
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="image"; filename="{name}"\r\nContent-Type: image/png\r\n\r\n'.encode()
        )
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


# --- endpoints ---------------------------------------------------------------------------------


def test_page_and_static_files(server: DigitServer) -> None:
    status, resp, body = request(server, "GET", "/")
    assert status == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'<canvas id="pad"' in body and b'src="/app.js"' in body
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    status, resp, js = request(server, "GET", "/app.js")
    assert (status, resp.headers["Content-Type"]) == (200, "text/javascript; charset=utf-8")
    assert b"pointerdown" in js and b"/predict" in js
    status, resp, css = request(server, "GET", "/style.css")
    assert (status, resp.headers["Content-Type"]) == (200, "text/css; charset=utf-8")
    assert b"touch-action: none" in css
    # HEAD: the same headers, no body.
    status, resp, head = request(server, "HEAD", "/")
    assert (status, head, int(resp.headers["Content-Length"])) == (200, b"", len(body))


def test_health_and_info(server: DigitServer, model: Path) -> None:
    status, _, data = request(server, "GET", "/health")
    health = json.loads(data)
    assert status == 200
    assert health["status"] == "ok"
    assert health["model"] == model.name
    assert health["model_sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    status, _, data = request(server, "GET", "/info")
    info = json.loads(data)
    assert status == 200
    # Exactly what `edge-mnist info --json` reports, manifest entry included.
    assert info == json.loads(json.dumps(describe(model)))
    assert info["manifest"]["format"] == "tflite" and info["matches_manifest"] is True


def test_predict_png_matches_classify_image(
    server: DigitServer, clf: Classifier, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = digits
    correct = 0
    for image, label in zip(images[:20], labels[:20], strict=True):
        data = png(image)
        status, resp, body = request(
            server, "POST", "/predict", data, {"Content-Type": "image/png"}
        )
        assert status == 200 and resp.headers["Content-Type"] == "application/json"
        answer = json.loads(body)
        want = expected_for_png(clf, data)
        assert answer["count"] == 1
        assert answer["digits"] == [int(want.digits[0])]
        assert answer["probabilities"] == want.probabilities.tolist()
        assert [t["digit"] for t in answer["top3"][0]] == [d for d, _ in want.top(3)[0]]
        assert answer["model_sha256"] == server.service.sha256
        assert answer["backend"] == clf.info.backend and answer["latency_ms"] > 0
        assert "preprocessed" not in answer
        correct += answer["digits"][0] == label
    assert correct >= 18


def test_predict_returns_the_preprocessed_image(
    server: DigitServer, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    data = png(digits[0][0])
    # curl --data-binary sends this content type: the body is still taken as an image.
    status, _, body = request(
        server,
        "POST",
        "/predict?preprocessed=1",
        data,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    seen = np.array(json.loads(body)["preprocessed"], dtype=np.uint8)
    want = np.round(to_mnist(Image.open(io.BytesIO(data))) * 255).astype(np.uint8)
    assert status == 200 and seen.shape == (1, 28, 28)
    np.testing.assert_array_equal(seen[0], want)


def test_predict_json_pixels(
    server: DigitServer, clf: Classifier, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    images, _ = digits
    status, answer = post_json(server, {"pixels": images[:50].tolist()})
    want = clf.predict(images[:50])
    assert status == 200 and answer["count"] == 50
    assert answer["digits"] == want.digits.tolist()
    assert answer["probabilities"] == want.probabilities.tolist()
    # One flat image, and float pixels in [0, 1].
    status, one = post_json(server, {"pixels": images[7].tolist()})
    assert (status, one["digits"]) == (200, [int(want.digits[7])])
    floats = (images[3] / 255).tolist()
    status, answer = post_json(server, {"pixels": floats})
    assert (status, answer["digits"]) == (200, clf.predict(np.array(floats)).digits.tolist())
    status, answer = post_json(server, {"pixels": images[:2].tolist()}, "/predict?preprocessed=1")
    np.testing.assert_array_equal(np.array(answer["preprocessed"]), images[:2].reshape(2, 28, 28))


def test_predict_multipart_images(
    server: DigitServer, clf: Classifier, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    files = [(f"d{i}.png", png(digits[0][i])) for i in range(3)]
    body, ctype = multipart(files)
    status, _, data = request(server, "POST", "/predict", body, {"Content-Type": ctype})
    answer = json.loads(data)
    assert status == 200 and answer["count"] == 3
    assert answer["names"] == ["d0.png", "d1.png", "d2.png"]
    assert answer["digits"] == [int(expected_for_png(clf, d).digits[0]) for _, d in files]


def test_metrics(server: DigitServer, digits: tuple[np.ndarray, np.ndarray]) -> None:
    post_json(server, {"pixels": digits[0][0].tolist()})
    request(server, "GET", "/nowhere")
    wanted = ('route="/predict",status="200"', 'route="other",status="404"')
    # A request is counted just after its answer is sent: on a busy machine the next request
    # can be read first, so ask again (briefly) until both answers above are counted.
    deadline = time.monotonic() + 5
    while True:
        status, resp, body = request(server, "GET", "/metrics")
        text = body.decode()
        if all(w in text for w in wanted) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert status == 200 and resp.headers["Content-Type"].startswith("text/plain")
    counts = {
        line.split(" ")[0]: int(line.split(" ")[1])
        for line in text.splitlines()
        if line.startswith("edge_mnist_requests_total")
    }
    assert counts['edge_mnist_requests_total{route="/predict",status="200"}'] >= 1
    assert counts['edge_mnist_requests_total{route="other",status="404"}'] >= 1
    p50 = next(ln for ln in text.splitlines() if 'quantile="0.5"' in ln)
    assert float(p50.split(" ")[1]) > 0


# --- errors ------------------------------------------------------------------------------------

BLANK = io.BytesIO()
Image.new("L", (64, 64), 255).save(BLANK, format="PNG")
NOISE = io.BytesIO()
Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64), np.uint8)).save(NOISE, "PNG")

BAD_BODIES = [
    ("image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not an image file Pillow can read"),
    ("application/octet-stream", b"hello, world", "not an image file Pillow can read"),
    ("image/png", BLANK.getvalue(), "^the request body: no digit found: the image is blank"),
    ("image/png", NOISE.getvalue()[:2000], "^the request body: .*truncated or corrupt"),
    ("application/json", b'{"pixels": [1, 2', "not valid JSON"),
    ("application/json", b"[1, 2, 3]", 'no "pixels" field'),
    ("application/json", b'{"pixels": [[1, 2], [3]]}', "ragged"),
    ("application/json", json.dumps({"pixels": [0] * 783}).encode(), r"shape \(783,\)"),
    ("application/json", json.dumps({"pixels": [[0] * 784] * 2 + [[]]}).encode(), "ragged"),
    ("application/json", b'{"pixels": [NaN' + b", 0" * 783 + b"]}", "NaN"),
    ("application/json", json.dumps({"pixels": [300] * 784}).encode(), "0-255"),
    ("application/json", json.dumps({"pixels": [2.5] * 784}).encode(), r"in \[0, 1\]"),
    ("application/json", json.dumps({"pixels": ["7"] * 784}).encode(), "strings"),
    ("application/json", json.dumps({"pixels": [None] * 784}).encode(), "not numbers"),
    ("application/json", b"\xff\xfe{}", "not UTF-8|not valid JSON"),
    ("application/json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("multipart/form-data", b"--x\r\n\r\n", "no boundary"),
    ("multipart/form-data; boundary=x", b"--x\r\n\r\nplain text\r\n--x--\r\n", "no image file"),
]


@pytest.mark.parametrize(("ctype", "body", "message"), BAD_BODIES)
def test_bad_bodies_get_400_with_the_runtime_message(
    server: DigitServer, ctype: str, body: bytes, message: str
) -> None:
    status, resp, data = request(server, "POST", "/predict", body, {"Content-Type": ctype})
    answer = json.loads(data)
    assert status == 400 and resp.headers["Content-Type"] == "application/json"
    assert set(answer) == {"error", "fix"}
    assert re.search(message, answer["error"]), answer


@pytest.mark.parametrize(
    ("ctype", "body", "fix"),
    [
        # curl -d sends JSON as a form: the answer says which header to send.
        (
            "application/x-www-form-urlencoded",
            json.dumps({"pixels": [0] * 784}).encode(),
            "Content-Type: application/json",
        ),
        (None, b'  {"pixels": [0]}', "Content-Type: application/json"),
        ("application/json", json.dumps({"pixels": [300] * 784}).encode(), "0-255"),
        ("application/json", json.dumps({"pixels": [-1] * 784}).encode(), "0-255"),
    ],
)
def test_bad_bodies_get_a_fix(
    server: DigitServer, ctype: str | None, body: bytes, fix: str
) -> None:
    headers = {} if ctype is None else {"Content-Type": ctype}
    status, _, data = request(server, "POST", "/predict", body, headers)
    answer = json.loads(data)
    assert status == 400, answer
    assert isinstance(answer["fix"], str) and fix in answer["fix"], answer
    if "Content-Type" in fix:
        assert "looks like JSON" in answer["error"]


def test_bad_multipart_image_names_the_part(server: DigitServer) -> None:
    body, ctype = multipart([("ok.png", BLANK.getvalue()), ("junk.png", b"not an image")])
    status, _, data = request(server, "POST", "/predict", body, {"Content-Type": ctype})
    answer = json.loads(data)
    assert status == 400
    assert answer["error"].startswith("part 1 (ok.png): no digit found")


def test_http_errors(server: DigitServer) -> None:
    cases = [
        ("GET", "/nope", None, {}, 404, None),
        ("GET", "/predict", None, {}, 405, "POST"),
        ("POST", "/health", b"{}", {}, 405, "HEAD, GET"),
        ("DELETE", "/", None, {}, 405, "HEAD, GET"),
        ("POST", "/predict", b"", {}, 400, None),
        ("POST", "/predict", None, {"Content-Length": "abc"}, 400, None),
    ]
    for method, path, body, headers, code, allow in cases:
        status, resp, data = request(server, method, path, body, headers)
        answer = json.loads(data)
        assert status == code, (method, path, answer)
        assert answer["error"] and "fix" in answer
        assert resp.headers.get("Allow") == allow


def raw(server: DigitServer, data: bytes, wait: float = 5.0) -> bytes:
    """Send raw bytes, then read until the server closes the connection."""
    with socket.create_connection(server.server_address[:2], timeout=wait) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_too_large_is_refused_before_reading(server: DigitServer) -> None:
    # Only the headers: the server must answer without waiting for the announced body.
    head = f"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n"
    reply = raw(server, head.encode(), wait=0.9)
    assert reply.startswith(b"HTTP/1.1 413 ")
    assert b'"error":"the body is 262,145 bytes; the limit is 262,144 bytes."' in reply
    # A client that sends the whole body anyway still reads the 413 (no connection reset).
    status, _, data = request(server, "POST", "/predict", b"\0" * (2 * MAX_BODY))
    assert status == 413 and "limit" in json.loads(data)["error"]
    # curl's Expect: 100-continue gets the 413 instead of the go-ahead.
    reply = raw(server, head.replace("\r\n\r\n", "\r\nExpect: 100-continue\r\n\r\n").encode())
    assert reply.startswith(b"HTTP/1.1 413 ")


def test_length_required_and_protocol_errors(server: DigitServer) -> None:
    reply = raw(server, b"POST /predict HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 411 ")
    reply = raw(server, b"POST /predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 411 ") and b"chunked" in reply
    # Not HTTP/1.x: answered the HTTP/0.9 way, a bare body, still JSON.
    reply = raw(server, b"GARBAGE\r\n\r\n")
    assert json.loads(reply)["error"] == "Bad request syntax ('GARBAGE')."
    reply = raw(server, b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 431 ") and b'"error":"Line too long."' in reply
    reply = raw(server, b"BREW /pot HTTP/1.1\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 501 ")


def test_slow_clients_time_out_without_blocking_others(
    server: DigitServer, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    before = server.metrics.snapshot()["timeouts"]
    addr = server.server_address[:2]
    silent = socket.create_connection(addr)  # connects, never sends
    partial = socket.create_connection(addr)  # half a request line
    partial.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-")
    trickle = socket.create_connection(addr)  # a body that never arrives in full
    trickle.sendall(b"POST /predict HTTP/1.1\r\nContent-Length: 1000\r\n\r\n" + b"{" * 10)
    start = time.monotonic()
    # Others are served meanwhile.
    status, answer = post_json(server, {"pixels": digits[0][0].tolist()})
    assert status == 200 and answer["count"] == 1 and time.monotonic() - start < 0.9
    for sock in (silent, partial, trickle):
        # The server hangs up after its 1 s timeout: the client sees EOF, not an answer.
        sock.settimeout(10)
        assert sock.recv(1024) == b""
        sock.close()
    assert time.monotonic() - start < 5
    assert server.metrics.snapshot()["timeouts"] >= before + 1


def test_no_traceback_for_user_errors_and_still_up(
    server: DigitServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="edge_mnist.serve"):
        for ctype, body, _ in BAD_BODIES[:6]:
            request(server, "POST", "/predict", body, {"Content-Type": ctype})
        raw(server, b"GARBAGE\r\n\r\n")
        # A client that resets mid-body.
        with socket.create_connection(server.server_address[:2]) as sock:
            sock.sendall(b"POST /predict HTTP/1.1\r\nContent-Length: 1000\r\n\r\nab")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        time.sleep(0.2)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert request(server, "GET", "/health")[0] == 200


def test_concurrent_clients_get_their_own_answers(
    server: DigitServer, clf: Classifier, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    images, _ = digits
    want_pixels = clf.predict(images).digits.tolist()
    pngs = [png(im) for im in images[:40]]
    want_png = [int(expected_for_png(clf, d).digits[0]) for d in pngs]

    def client(k: int) -> list[bool]:
        ok = []
        for i in range(k, k + 25):
            if i % 2:
                j = i % len(images)
                status, answer = post_json(server, {"pixels": images[j].tolist()})
                ok.append(status == 200 and answer["digits"] == [want_pixels[j]])
            else:
                j = i % len(pngs)
                status, _, data = request(server, "POST", "/predict", pngs[j])
                ok.append(status == 200 and json.loads(data)["digits"] == [want_png[j]])
        return ok

    with ThreadPoolExecutor(8) as pool:
        results = [ok for batch in pool.map(client, range(0, 160, 20)) for ok in batch]
    assert len(results) == 200 and all(results)


def test_busy_server_answers_503(model: Path, digits: tuple[np.ndarray, np.ndarray]) -> None:
    srv = make_server(model, "127.0.0.1", 0, limits=Limits(max_connections=1, timeout=2.0))
    thread = _start(srv)
    try:
        with socket.create_connection(srv.server_address[:2]):  # holds the only slot
            time.sleep(0.2)
            status, _, data = request(srv, "GET", "/health")
            assert status == 503 and "busy" in json.loads(data)["error"]
        time.sleep(0.3)
        assert request(srv, "GET", "/health")[0] == 200
        assert srv.metrics.snapshot()["rejected"] == 1
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def test_unread_bodies_close_the_connection(server: DigitServer) -> None:
    """A body the server does not read must not be parsed as the next request."""
    smuggled = b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
    for head in (b"GET /health HTTP/1.1", b"POST /nowhere HTTP/1.1"):
        reply = raw(server, head + b"\r\nContent-Length: %d\r\n\r\n" % len(smuggled) + smuggled)
        assert b"Connection: close" in reply
        assert reply.count(b"HTTP/1.1 ") == 1, reply
