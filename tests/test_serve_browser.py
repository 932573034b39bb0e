"""The draw page in a real browser: headless Chromium draws MNIST test digits on the canvas with
mouse, pen and touch input, and the page must show the right digit.

Needs Debian's chromium (/usr/bin/chromium, or $EDGE_MNIST_CHROMIUM) and Playwright for Python
(the dev extra); Playwright's own browser downloads are not used. Skipped when they are missing
locally, failed when they are missing in CI. Set $EDGE_MNIST_SCREENSHOT to a path to keep the
screenshot (the README's is made this way).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from edge_mnist.runtime.serve import make_server

CHROMIUM = os.environ.get("EDGE_MNIST_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "browser-test-token-0123456789"
CELL = 10  # canvas pixels per MNIST pixel: the pad is 280 x 280
INK = 100  # MNIST grey level that counts as a stroke


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        _unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed: pip install -e '.[dev]'")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def url(artifacts: Path) -> Iterator[str]:
    # With an access token, as on a shared network: the page must ask for it once.
    server = make_server(artifacts / "model_int8.tflite", "127.0.0.1", 0, token=TOKEN)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server.url
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture()
def page(browser: Any, url: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 760, "height": 470}, has_touch=True)
    pg = context.new_page()
    errors: list[str] = []
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept(TOKEN)

    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("dialog", answer)
    pg.goto(url)
    pg.wait_for_function("() => document.getElementById('model').textContent.includes('sha256')")
    yield pg
    context.close()
    assert not errors, errors
    assert asked == ["This server needs an access token:"]  # once, then kept for the tab


def strokes(image: np.ndarray) -> list[tuple[int, int, int]]:
    """The digit's ink as horizontal strokes (row, first column, last column), top to bottom."""
    ink = image.reshape(28, 28) >= INK
    out = []
    for row in range(28):
        cols = np.flatnonzero(ink[row])
        if cols.size == 0:
            continue
        breaks = np.flatnonzero(np.diff(cols) > 1)
        starts = [cols[0], *cols[breaks + 1]]
        stops = [*cols[breaks], cols[-1]]
        out += [(row, int(a), int(b)) for a, b in zip(starts, stops, strict=True)]
    return out


Point = tuple[float, float]


def mouse_pen(page: Any, kind: str) -> Callable[[list[Point]], None]:
    """Draw one stroke through real input events: Playwright's mouse, or pen via DevTools."""
    if kind == "mouse":

        def draw(points: list[Point]) -> None:
            page.mouse.move(*points[0])
            page.mouse.down()
            for x, y in points[1:]:
                page.mouse.move(x, y, steps=2)
            page.mouse.up()

        return draw
    cdp = page.context.new_cdp_session(page)
    if kind == "pen":

        def draw(points: list[Point]) -> None:
            def send(kind: str, x: float, y: float, buttons: int) -> None:
                cdp.send(
                    "Input.dispatchMouseEvent",
                    {
                        "type": kind,
                        "x": x,
                        "y": y,
                        "button": "left",
                        "buttons": buttons,
                        "clickCount": 1,
                        "pointerType": "pen",
                        "force": 0.5,
                    },
                )

            send("mousePressed", *points[0], 1)
            for x, y in points[1:]:
                send("mouseMoved", x, y, 1)
            send("mouseReleased", *points[-1], 0)

        return draw

    def draw(points: list[Point]) -> None:  # touch
        def send(kind: str, pts: list[Point]) -> None:
            touches = [{"x": x, "y": y, "id": 1, "radiusX": 4, "radiusY": 4} for x, y in pts]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": touches})

        send("touchStart", points[:1])
        for point in points[1:]:
            send("touchMove", [point])
        send("touchEnd", [])

    return draw


def draw_digit(page: Any, image: np.ndarray, kind: str) -> str:
    """Trace the digit on the pad and return the digit the page then shows."""
    box = page.locator("#pad").bounding_box()
    draw = mouse_pen(page, kind)
    for row, c0, c1 in strokes(image):
        y = box["y"] + (row + 0.5) * CELL
        xs = np.arange(c0, c1 + 1) + 0.5 if c1 > c0 else np.array([c0 + 0.5, c0 + 0.5])
        draw([(box["x"] + x * CELL, y) for x in xs])
    page.wait_for_function(
        """() => { const r = document.getElementById('result').dataset;
                   return r.state === 'done' && r.strokes !== '0' && r.shown === r.strokes; }"""
    )
    return str(page.locator("#digit").text_content())


def first_of_each(test_images: tuple[np.ndarray, np.ndarray], labels: list[int]) -> list[Any]:
    images, y = test_images
    return [(images[int(np.flatnonzero(y == d)[0])], d) for d in labels]


@pytest.mark.parametrize("kind", ["mouse", "pen", "touch"])
def test_drawn_digits_are_recognised(
    page: Any, kind: str, test_images: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    labels = {"mouse": [2, 3, 0, 7], "pen": [4, 5, 1], "touch": [6, 8, 9]}[kind]
    page.evaluate(
        """() => { window.pointerTypes = new Set();
                   document.getElementById('pad').addEventListener(
                       'pointerdown', (e) => window.pointerTypes.add(e.pointerType)); }"""
    )
    shown = []
    for image, label in first_of_each(test_images, labels):
        page.click("#clear")
        assert page.locator("#digit").text_content() == "–"
        shown.append((draw_digit(page, image, kind), str(label)))
        # The page shows ten probabilities, the latency and the 28x28 image the model saw.
        assert page.locator("#bars li").count() == 10
        assert page.locator("#bars li.top span").first.text_content() == shown[-1][0]
        assert "ms" in str(page.locator("#latency").text_content())
        seen = page.evaluate(
            "() => Array.from(document.getElementById('seen').getContext('2d')"
            ".getImageData(0, 0, 28, 28).data).filter((v, i) => i % 4 === 0)"
        )
        assert 20 < np.count_nonzero(seen) < 400
    assert [s for s, _ in shown] == [want for _, want in shown]
    # The strokes really arrived as this kind of pointer.
    assert page.evaluate("() => Array.from(window.pointerTypes)") == [kind]
    if kind == "mouse":
        page.screenshot(path=str(tmp_path / "serve.png"))
        keep = os.environ.get("EDGE_MNIST_SCREENSHOT")
        if keep:
            page.screenshot(path=keep)


def test_upload_and_errors_show_on_the_page(
    page: Any, test_images: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    image, label = first_of_each(test_images, [3])[0]
    photo = tmp_path / "three.png"
    Image.fromarray(255 - image.reshape(28, 28)).resize((140, 140)).save(photo)
    page.set_input_files("#upload", str(photo))
    page.wait_for_function("() => document.getElementById('result').dataset.state === 'done'")
    assert page.locator("#digit").text_content() == str(label)
    blank = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(blank)
    page.set_input_files("#upload", str(blank))
    page.wait_for_function("() => document.getElementById('error').textContent !== ''")
    assert "no digit found" in str(page.locator("#error").text_content())
    assert page.locator("#digit").text_content() == "?"
