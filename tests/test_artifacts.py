"""The one owner of artifact names, formats and precisions, the sha256 and the manifest reader.

No MNIST, no training, no interpreter: these pin the table and the manifest's error cases.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from edge_mnist.converters.c import STEM
from edge_mnist.converters.quantize import calibration_images
from edge_mnist.errors import UsageError
from edge_mnist.export import c_files, plan
from edge_mnist.runtime.artifacts import (
    C_FILES,
    EXPORT_FORMATS,
    FORMATS,
    MANIFEST_FILE,
    MANIFEST_SCHEMA_VERSION,
    MODEL_FILES,
    MODEL_SUFFIXES,
    QUANTIZE_MODES,
    file_sha256,
    manifest_entry,
    manifest_mismatch,
    model_file,
    read_manifest,
)
from edge_mnist.runtime.backends import FORMATS as BACKEND_FORMATS
from edge_mnist.runtime.backends import TABLE
from edge_mnist.runtime.errors import InvalidInputError

pytestmark = pytest.mark.device


def test_the_table_names_every_model_file_export_writes() -> None:
    assert MODEL_FILES == (
        "model_int8.tflite",
        "model_float32.tflite",
        "model_int8.onnx",
        "model_float32.onnx",
    )
    assert [t.filename for t in plan("all", "int8")] == list(MODEL_FILES)
    assert [t.filename for t in plan("onnx", "none")] == [model_file("onnx", "float32")]
    assert [t.filename for t in plan("c", "int8")] == ["model_int8.tflite"]
    assert C_FILES == ("model_int8.h", "model_int8.c") and STEM == "model_int8"
    assert [p.name for p in c_files("all", Path("out"))] == list(C_FILES)
    assert c_files("tflite", Path("out")) == []
    assert MODEL_SUFFIXES == (".tflite", ".onnx")
    # The backends run exactly the formats export writes.
    assert BACKEND_FORMATS is FORMATS and {s.format for s in TABLE} == set(FORMATS)


def test_export_and_the_converters_refuse_what_the_table_lacks() -> None:
    with pytest.raises(UsageError) as fmt:
        plan("tfjs", "int8")
    assert fmt.value.fix == f"choose one of: {', '.join(EXPORT_FORMATS)}."
    assert fmt.value.fix == "choose one of: tflite, onnx, c, all."
    with pytest.raises(UsageError) as quant:
        plan("tflite", "int4")
    assert quant.value.fix == "choose one of: int8, none."
    with pytest.raises(UsageError, match="generated from the int8 model"):
        plan("c", "none")
    assert QUANTIZE_MODES == ("int8", "none")
    assert calibration_images("none", None) is None
    with pytest.raises(InvalidInputError) as conv:
        calibration_images("int4", None)
    assert conv.value.fix == "choose one of: int8, none."


def test_file_sha256_reads_past_the_first_chunk(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000  # 1.28 MB: more than one 1 MiB read
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    assert file_sha256(str(path)) != hashlib.sha256(data[:-1]).hexdigest()


def test_a_folder_without_a_manifest_reads_as_an_empty_one(tmp_path: Path) -> None:
    assert read_manifest(tmp_path) == {"schema_version": MANIFEST_SCHEMA_VERSION, "artifacts": {}}
    assert manifest_entry(tmp_path / "model_int8.tflite").entry is None
    assert manifest_entry(tmp_path / "model_int8.tflite").problem is None
    assert manifest_mismatch(tmp_path / "model_int8.tflite") is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"artifacts": ', "cannot read the manifest (not valid JSON"),
        (b"\xff\xfe", "cannot read the manifest (not UTF-8 text)"),
        (b'{"artifacts": []}', "is not a manifest (no 'artifacts' table)."),
        (b"[1, 2]", "is not a manifest (no 'artifacts' table)."),
    ],
    ids=["truncated", "binary", "list-table", "not-an-object"],
)
def test_a_bad_manifest_is_one_input_error_and_an_unreadable_lookup(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    (tmp_path / MANIFEST_FILE).write_bytes(content)
    with pytest.raises(InvalidInputError) as info:
        read_manifest(tmp_path)
    assert info.value.problem.startswith(str(tmp_path / MANIFEST_FILE))
    assert problem in info.value.problem
    assert info.value.fix == "delete it and run 'edge-mnist export' again."
    lookup = manifest_entry(tmp_path / "model_int8.tflite")
    assert lookup.entry is None and lookup.problem == f"unreadable: {info.value.problem}"
    warning = manifest_mismatch(tmp_path / "model_int8.tflite")
    assert warning == f"the manifest beside model_int8.tflite is unreadable: {info.value.problem}"


def test_lookup_finds_the_entry_and_flags_another_file(tmp_path: Path) -> None:
    model = tmp_path / "model_int8.tflite"
    model.write_bytes(b"the exported bytes")
    entry = {"sha256": file_sha256(model), "test_accuracy": 0.98}
    manifest = {"schema_version": 1, "artifacts": {model.name: entry}}
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest))
    assert read_manifest(tmp_path) == manifest
    assert manifest_entry(model).entry == entry and manifest_mismatch(model) is None

    other = tmp_path / "model_int8.onnx"
    other.write_bytes(b"x")
    assert (
        manifest_entry(other).problem == f"{tmp_path / MANIFEST_FILE} does not list {other.name}."
    )
    assert manifest_mismatch(other) is None  # not listed: copied alone, no warning

    model.write_bytes(b"re-exported since")
    warning = manifest_mismatch(model)
    assert warning is not None and warning.startswith(
        f"model_int8.tflite: sha256 {file_sha256(model)[:12]}… differs from the "
        f"{entry['sha256'][:12]}… in manifest.json"
    )
