"""Images that are not one handwritten digit, rendered with Pillow, and digits on ruled paper.

The set that "no digit here" is measured on (docs/2026-12-03-no-digit.md): dots and taps of
several sizes, words (Pillow's font scaled up, and drawn cursive strokes), two digits side by
side, scattered specks, empty ruled and grid pages. Every image is dark ink on a white page, as a
user would photograph or draw it; everything is seeded, so a kind always gives the same images.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Light blue and grey rulings, as printed on notebook paper.
RULING_COLOURS = ((170, 200, 235), (190, 190, 190), (150, 180, 225))


def _page(width: int, height: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    im = Image.new("RGB", (width, height), (255, 255, 255))
    return im, ImageDraw.Draw(im)


def dots(rng: np.random.Generator) -> Iterator[Image.Image]:
    """Filled round dots from 4 to 40 px across on pages of 280 px: a pen's tap, a blot."""
    for diameter in (4, 6, 10, 14, 18, 24, 32, 40):
        im, draw = _page(280, 280)
        x, y = rng.integers(40, 200, 2)
        draw.ellipse((x, y, x + diameter, y + diameter), fill=(20, 20, 20))
        yield im


def serve_tap() -> Image.Image:
    """One tap on the serve page's 280 px pad: a round dot as wide as its 18 px pen."""
    im, draw = _page(280, 280)
    draw.ellipse((131, 131, 149, 149), fill=(0, 0, 0))
    return im


def font_words(rng: np.random.Generator) -> Iterator[Image.Image]:
    """Words in Pillow's default font scaled up, dark on white."""
    for word, size in (("hello", 48), ("word", 56), ("abc", 64), ("the end", 40), ("Yes", 60)):
        font = ImageFont.load_default(size=size)
        left, top, right, bottom = font.getbbox(word)
        margin = int(rng.integers(10, 40))
        im, draw = _page(right - left + 2 * margin, bottom - top + 2 * margin)
        draw.text((margin - left, margin - top), word, fill=(10, 10, 10), font=font)
        yield im


def stroke_words(rng: np.random.Generator) -> Iterator[Image.Image]:
    """Cursive-like words: one joined pen stroke looping along a line, 3 to 7 letters long."""
    for letters in (3, 4, 5, 6, 7):
        width = 60 * letters + 60
        im, draw = _page(width, 160)
        t = np.linspace(0, letters * 2 * np.pi, 80 * letters)
        xs = 30 + t / (2 * np.pi) * 60 + 18 * np.sin(t + rng.uniform(0, 1))
        ys = 80 - 28 * np.abs(np.sin(t / 2)) * rng.uniform(0.6, 1.4, t.size).clip(0.9, 1.1)
        draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=(15, 15, 15), width=6)
        yield im


def side_by_side(
    first: np.ndarray, second: np.ndarray, gap: int = 2, scale: int = 4
) -> Image.Image:
    """Two 28x28 light-on-dark digits next to each other, as one dark-on-white image."""
    pair = np.concatenate([first, np.zeros((28, gap), np.uint8), second], axis=1)
    pair = np.pad(pair, 8)
    im = Image.fromarray(255 - pair).resize(
        (pair.shape[1] * scale, pair.shape[0] * scale), Image.Resampling.BILINEAR
    )
    return im.convert("RGB")


def font_numbers() -> Iterator[Image.Image]:
    """Numbers of two and three digits in Pillow's default font."""
    for text in ("42", "17", "2026", "305", "88"):
        font = ImageFont.load_default(size=72)
        left, top, right, bottom = font.getbbox(text)
        im, draw = _page(right - left + 40, bottom - top + 40)
        draw.text((20 - left, 20 - top), text, fill=(0, 0, 0), font=font)
        yield im


def specks(rng: np.random.Generator) -> Iterator[Image.Image]:
    """Scattered specks (dust, pepper noise): 5 to 40 round specks, 1 to 6 px across."""
    for count in (5, 8, 12, 20, 40):
        for largest in (2, 4, 6):
            im, draw = _page(240, 240)
            for _ in range(count):
                x, y = rng.integers(10, 225, 2)
                d = int(rng.integers(1, largest + 1))
                draw.ellipse((x, y, x + d, y + d), fill=(30, 30, 30))
            yield im


def ruled_page(
    width: int = 280,
    height: int = 280,
    spacing: int = 28,
    colour: tuple[int, int, int] = RULING_COLOURS[0],
    thickness: int = 2,
    grid: bool = False,
    offset: int = 10,
) -> Image.Image:
    """An empty ruled (or grid) page: lines every ``spacing`` px across the whole image."""
    im, draw = _page(width, height)
    for y in range(offset, height, spacing):
        draw.rectangle((0, y, width - 1, y + thickness - 1), fill=colour)
    if grid:
        for x in range(offset, width, spacing):
            draw.rectangle((x, 0, x + thickness - 1, height - 1), fill=colour)
    return im


def empty_pages() -> Iterator[Image.Image]:
    """Empty ruled and grid pages in several colours, spacings and line widths."""
    for colour in RULING_COLOURS:
        for spacing, thickness in ((20, 1), (28, 2), (40, 3)):
            yield ruled_page(spacing=spacing, colour=colour, thickness=thickness)
            yield ruled_page(spacing=spacing, colour=colour, thickness=thickness, grid=True)


def on_ruled_paper(
    digit: np.ndarray,
    scale: int = 4,
    margin: int = 40,
    spacing: int = 24,
    offset: int = 7,
    **kw: object,
) -> Image.Image:
    """A 28x28 light-on-dark digit drawn dark over a ruled page (the page's lines every
    ``spacing`` px across the whole image; the ink darkens the page, like a pen on paper)."""
    side = 28 * scale + 2 * margin
    page = np.asarray(ruled_page(side, side, spacing=spacing, offset=offset, **kw), np.float32)  # type: ignore[arg-type]
    big = np.asarray(
        Image.fromarray(digit).resize((28 * scale, 28 * scale), Image.Resampling.BILINEAR),
        np.float32,
    )
    ink = np.zeros((side, side), np.float32)
    ink[margin : margin + 28 * scale, margin : margin + 28 * scale] = big / 255
    out = page * (1 - ink[..., None])
    return Image.fromarray(np.round(out).astype(np.uint8))


def on_plain_paper(digit: np.ndarray, scale: int = 4, margin: int = 40) -> Image.Image:
    """The same digit as ``on_ruled_paper`` on a plain white page."""
    big = Image.fromarray(255 - digit).resize((28 * scale, 28 * scale), Image.Resampling.BILINEAR)
    page = Image.new("L", (28 * scale + 2 * margin,) * 2, 255)
    page.paste(big, (margin, margin))
    return page


def kinds(
    rng: np.random.Generator, digits: list[np.ndarray]
) -> dict[str, Callable[[], list[Image.Image]]]:
    """Each kind of non-digit by name, as a function making its images; ``digits`` are 28x28
    light-on-dark digits for the pairs (MNIST's, or the fixtures' in the fast suite)."""
    pairs = [(digits[i], digits[(i + 1) % len(digits)]) for i in range(len(digits))]
    return {
        "dot": lambda: [*dots(rng), serve_tap()],
        "word (font)": lambda: list(font_words(rng)),
        "word (strokes)": lambda: list(stroke_words(rng)),
        "two digits": lambda: [side_by_side(a, b) for a, b in pairs],
        "number (font)": lambda: list(font_numbers()),
        "specks": lambda: list(specks(rng)),
        "empty ruled/grid page": lambda: list(empty_pages()),
    }
