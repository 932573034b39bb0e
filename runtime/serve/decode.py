"""Turn a /predict request body into MNIST images: an image file, multipart images or JSON pixels."""

from __future__ import annotations

import json
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser

import numpy as np

from ..conversions import as_batch
from ..errors import ImageError, InvalidInputError
from ..preprocess import decode_image, prepare

MAX_IMAGES = 64
"""Images one multipart request may carry: each is decoded and preprocessed on its own."""

_FIX_JSON = 'send {"pixels": [...]} with 784 values (or N lists of 784) per image.'
_FIX_MULTIPART = "send each image as a file part, e.g. curl -F image=@digit.png."
_FIX_RANGE = "send integer pixels in 0-255 or float pixels in [0, 1] (divide 0-255 values by 255)."
_FIX_CONTENT_TYPE = (
    "send it with the header Content-Type: application/json "
    "(curl -H 'Content-Type: application/json' --data @body.json)."
)


@dataclass(frozen=True)
class Images:
    """What a request asked to classify, ready for ``Classifier.predict``."""

    batch: np.ndarray
    """(N, 784) pixels: float32 in [0, 1] from images, uint8 or float as given in JSON."""
    names: list[str] | None = None
    """File names of multipart parts, in order; None for other bodies."""
    doubts: list[str | None] | None = None
    """Per image, why it may not be one digit (preprocess.prepare), or None; None for JSON."""

    def as_uint8(self) -> np.ndarray:
        """The model's view of each image as (N, 28, 28) grey levels 0-255."""
        batch = self.batch
        if batch.dtype != np.uint8:
            batch = np.round(batch.astype(np.float32) * np.float32(255)).astype(np.uint8)
        return batch.reshape(-1, 28, 28)


def media_type(content_type: str | None) -> tuple[str, Message]:
    """The lower-case media type of a Content-Type header, and the header parsed for parameters."""
    header = Message()
    header["content-type"] = content_type or "application/octet-stream"
    return header.get_content_type(), header


def parse_body(content_type: str | None, body: bytes) -> Images:
    """Decode a request body by its Content-Type; anything not JSON or multipart is an image.

    Raises ``InvalidInputError`` or ``ImageError`` (both ``EdgeMnistError``) for bodies that
    cannot be read, with the same messages the command line gives.
    """
    kind, header = media_type(content_type)
    if kind == "application/json" or kind.endswith("+json"):
        return _from_json(body)
    if kind == "multipart/form-data":
        return _from_multipart(header, body)
    # curl --data-binary sends application/x-www-form-urlencoded: take any other type as an image.
    if body.lstrip()[:1] in (b"{", b"["):
        # JSON sent without its type (curl -d sets x-www-form-urlencoded): no image starts so.
        raise InvalidInputError(
            f"the body looks like JSON but its Content-Type is {kind}.", _FIX_CONTENT_TYPE
        )
    name = "the request body"
    digit, doubt = prepare(decode_image(body, name), name)
    return Images(digit.reshape(1, -1), doubts=[doubt])


def _from_json(body: bytes) -> Images:
    try:
        doc = json.loads(body)
    except UnicodeDecodeError:
        raise InvalidInputError("the JSON body is not UTF-8 text.", _FIX_JSON) from None
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"the body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}).",
            _FIX_JSON,
        ) from None
    except RecursionError:
        raise InvalidInputError("the JSON body is nested too deeply.", _FIX_JSON) from None
    if not isinstance(doc, dict) or "pixels" not in doc:
        raise InvalidInputError('the JSON body has no "pixels" field.', _FIX_JSON)
    try:
        pixels = np.asarray(doc["pixels"])
    except (ValueError, TypeError, OverflowError):
        raise InvalidInputError(
            '"pixels" is ragged: every image needs exactly 784 values.', _FIX_JSON
        ) from None
    if pixels.dtype.kind not in "uif":
        raise InvalidInputError(
            f'"pixels" holds {_kind_name(pixels)}, not numbers.',
            "send integers 0-255 or floats in [0, 1].",
        )
    if pixels.ndim not in (1, 2) or pixels.shape[-1] != 784:
        raise InvalidInputError(
            f'"pixels" has shape {pixels.shape}; expected (784,) or (N, 784).', _FIX_JSON
        )
    try:
        return Images(as_batch(pixels))
    except InvalidInputError as exc:
        # The classifier's own message names the range; a web client also needs the fix.
        raise InvalidInputError(exc.problem, exc.fix or _FIX_RANGE) from None


def _kind_name(arr: np.ndarray) -> str:
    if arr.dtype.kind == "b":
        return "true/false values"
    if arr.dtype.kind == "U":
        return "strings"
    return "nulls, objects or mixed values"


def _from_multipart(header: Message, body: bytes) -> Images:
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise InvalidInputError(
            "the multipart/form-data body has no boundary in its Content-Type.", _FIX_MULTIPART
        )
    head = f'Content-Type: multipart/form-data; boundary="{boundary}"\r\n\r\n'.encode("latin-1")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    parts = [
        p
        for p in (message.get_payload() if message.is_multipart() else [])
        if isinstance(p, Message) and (p.get_filename() or p.get_content_maintype() == "image")
    ]
    if not parts:
        raise InvalidInputError("the multipart body has no image file parts.", _FIX_MULTIPART)
    if len(parts) > MAX_IMAGES:
        raise InvalidInputError(
            f"the multipart body has {len(parts)} images; at most {MAX_IMAGES} per request.",
            "split the images over several requests, or send preprocessed pixels as JSON.",
        )
    images, names, doubts = [], [], []
    for i, part in enumerate(parts):
        name = part.get_filename() or part.get_param("name", header="content-disposition")
        label = f"part {i + 1} ({name})" if name else f"part {i + 1}"
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            raise ImageError(f"{label}: cannot read its content.", _FIX_MULTIPART)
        digit, doubt = prepare(decode_image(data, label), label)
        images.append(digit.reshape(-1))
        doubts.append(doubt)
        names.append(str(name) if name else label)
    return Images(np.stack(images), names, doubts)
