"""The conformance table: each installed interpreter against each NumPy-engine rounding variant.

    python -m edge_mnist.conformance artifacts/model_int8.tflite [--json FILE] [--limit N]

For every interpreter this environment has (ai-edge-litert with its default XNNPACK delegate and
without it, tflite-runtime, the tflite-micro host interpreter; onnxruntime on the int8 .onnx
beside the model), it counts the test images whose output bytes and whose digits are identical
to each engine variant's (``litert``, ``reference``, ``tflm``), and the largest difference.
Each interpreter is expected to match one variant on every image (``EXPECTED``, measured in
docs/2026-12-03-rounding-variants.md); exit 1 names an interpreter that no longer does, and the
variant it matches now, if any: a new interpreter release changed its arithmetic, so devices
on it compute other bytes than CI gated. onnxruntime runs a separately quantized model: only
its digits are compared, and it has no expectation. Needs numpy and the interpreters only.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from edge_mnist.runtime.backends import conflict, spec_for
from edge_mnist.runtime.engine import ROUNDINGS, Engine
from edge_mnist.runtime.engine.rounding import INTERPRETER_ROUNDING
from edge_mnist.runtime.errors import InvalidInputError
from edge_mnist.runtime.textfmt import align

# Interpreter -> the engine variant that gives its bytes on all 10,000 test images.
EXPECTED = INTERPRETER_ROUNDING
Runner = Callable[[Path, np.ndarray], np.ndarray]


def _tflite(module: Any, path: Path, x: np.ndarray, **options: Any) -> np.ndarray:
    it = module.Interpreter(model_path=str(path), **options)
    detail = it.get_input_details()[0]
    it.resize_tensor_input(detail["index"], x.shape)
    it.allocate_tensors()
    it.set_tensor(detail["index"], x)
    it.invoke()
    return np.array(it.get_tensor(it.get_output_details()[0]["index"]))


def _litert(path: Path, x: np.ndarray, builtin: bool = False) -> np.ndarray:
    from ai_edge_litert import interpreter

    if not builtin:
        return _tflite(interpreter, path, x)
    resolver = interpreter.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    return _tflite(interpreter, path, x, experimental_op_resolver_type=resolver)


def _tflite_runtime(path: Path, x: np.ndarray) -> np.ndarray:
    from tflite_runtime import interpreter

    return _tflite(interpreter, path, x)


def _tflm(path: Path, x: np.ndarray) -> np.ndarray:
    """TensorFlow Lite Micro's host interpreter: one image per invoke (it cannot resize)."""
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_file(str(path))
    rows = []
    for i in range(len(x)):
        it.set_input(x[i : i + 1], 0)
        it.invoke()
        rows.append(np.array(it.get_output(0)).reshape(-1))
    return np.stack(rows)


def _version(dist: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def interpreters() -> list[tuple[str, str, str | None, Runner | None]]:
    """(name, pip distribution, version or None when missing, runner or None) for each."""
    rows: list[tuple[str, str, str | None, Runner | None]] = []
    litert = _version("ai-edge-litert")
    rows.append(("litert", "ai-edge-litert", litert, _litert if litert else None))
    rows.append(
        (
            "litert-builtin",
            "ai-edge-litert",
            litert,
            (lambda p, x: _litert(p, x, builtin=True)) if litert else None,
        )
    )
    tfl = _version("tflite-runtime")
    usable = tfl is not None and conflict(spec_for("tflite-runtime")) is None
    rows.append(("tflite-runtime", "tflite-runtime", tfl, _tflite_runtime if usable else None))
    tflm = _version("tflite-micro")
    rows.append(("tflite-micro", "tflite-micro", tflm, _tflm if tflm else None))
    return rows


def _pairs(got: np.ndarray, variants: dict[str, np.ndarray]) -> dict[str, dict[str, int]]:
    out = {}
    for name, expected in variants.items():
        got2 = got.reshape(expected.shape)
        if got2.dtype == expected.dtype:
            diff = np.abs(got2.astype(np.int16) - expected.astype(np.int16)).max(axis=1)
            same: int | None = int(np.sum(diff == 0))
            largest: int | None = int(diff.max())
        else:
            same = largest = None  # another model (the ONNX): only digits compare
        out[name] = {
            "identical": same,
            "largest_difference": largest,
            "digits_equal": int(np.sum(got2.argmax(1) == expected.argmax(1))),
        }
    return out  # type: ignore[return-value]


def _onnx(model: Path, pixels: np.ndarray) -> tuple[str, np.ndarray] | None:
    onnx_path = model.with_suffix(".onnx")
    version = _version("onnxruntime")
    if version is None or not onnx_path.exists():
        return None
    from edge_mnist.runtime import Classifier

    clf = Classifier.load(onnx_path, backend="onnxruntime")
    return version, np.asarray(clf.backend.run(clf.prepare(pixels)))


def conformance(model: Path, pixels: np.ndarray) -> dict[str, Any]:
    """The table for ``model`` on (N, 784) uint8 ``pixels``, with failures listed."""
    engines = {r: Engine.load(model, r) for r in ROUNDINGS}
    x = (pixels.astype(np.int16) - 128).astype(np.int8)  # scale 1/255, zero point -128
    if engines["litert"].input.dtype != np.int8:
        raise InvalidInputError(f"{model}: the conformance table needs the int8 .tflite model.")
    variants = {r: e.run(x.reshape(len(x), *e.input.shape[1:])) for r, e in engines.items()}
    table: dict[str, Any] = {}
    failures = []
    for name, dist, version, run in interpreters():
        row: dict[str, Any] = {"dist": dist, "version": version, "expected": EXPECTED[name]}
        if run is None:
            row["status"] = "not installed" if version is None else "cannot run here"
            table[name] = row
            continue
        row["variants"] = _pairs(run(model, x), variants)
        row["status"] = "ok"
        want = EXPECTED[name]
        if row["variants"][want]["identical"] != len(x):
            now = [v for v, r in row["variants"].items() if r["identical"] == len(x)]
            row["status"] = "moved"
            failures.append(
                f"{name} {version} no longer computes the '{want}' bytes "
                f"({row['variants'][want]['identical']:,}/{len(x):,} identical, largest "
                f"difference {row['variants'][want]['largest_difference']} steps); "
                + (f"it matches '{now[0]}' now." if now else "it matches no engine variant.")
            )
        table[name] = row
    onnx = _onnx(model, pixels)
    if onnx is not None:
        table["onnxruntime"] = {
            "dist": "onnxruntime",
            "version": onnx[0],
            "expected": None,
            "status": "digits only (model_int8.onnx is quantized separately)",
            "variants": _pairs(onnx[1], variants),
        }
    return {"model": str(model), "images": len(x), "interpreters": table, "failures": failures}


def render(report: dict[str, Any]) -> list[str]:
    """The table as text (fits 80 columns): identical bytes per variant, digits equal."""
    n = report["images"]
    rows = [("interpreter", "version", *ROUNDINGS, "digits", "expected")]
    for name, row in report["interpreters"].items():
        if "variants" not in row:
            rows.append((name, (row["version"] or "-")[:14], "-", "-", "-", "-", row["status"]))
            continue
        cells = []
        for r in ROUNDINGS:
            same = row["variants"][r]["identical"]
            cells.append("-" if same is None else f"{same:,}")
        digits = row["variants"][row["expected"] or "litert"]["digits_equal"]
        mark = row["expected"] or "-"
        if row["status"] == "moved":
            mark += " MOVED"
        rows.append((name, row["version"][:14], *cells, f"{digits:,}", mark))
    head = f"{report['model']}: identical output bytes / {n:,} images, per engine variant"
    return [head, *align(rows, right=frozenset({2, 3, 4, 5})), *report["failures"]]


def _images(limit: int | None) -> np.ndarray:
    from edge_mnist.runtime.datadir import resolve_data_dir
    from edge_mnist.runtime.idx import find_idx, read_idx

    folder, _ = resolve_data_dir()
    path = find_idx(folder, "t10k-images-idx3-ubyte")
    if path is None:
        raise InvalidInputError(
            f"no t10k-images-idx3-ubyte in {folder}.", "set EDGE_MNIST_DATA to the MNIST folder."
        )
    images = read_idx(path).reshape(-1, 784)
    return images[:limit] if limit else images


def _main(argv: list[str]) -> int:
    from edge_mnist.runtime.cliopts import check_output_path, is_stdout
    from edge_mnist.runtime.jsonfile import write_json_or_stdout

    parser = argparse.ArgumentParser(prog="python -m edge_mnist.conformance", description=__doc__)
    parser.add_argument("model", type=Path, help="the int8 .tflite model")
    parser.add_argument("--json", metavar="FILE", help="write the table as JSON ('-': stdout)")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N test images")
    args = parser.parse_args(argv)
    check_output_path(args.json, "--json")
    Engine.load(args.model)  # the model first: a mistyped path is not reported as missing MNIST
    report = conformance(args.model, _images(args.limit))
    if not is_stdout(args.json):
        print("\n".join(render(report)))
    if args.json:
        write_json_or_stdout(args.json, report)
    return 1 if report["failures"] else 0


def main(argv: list[str] | None = None) -> int:
    from edge_mnist.runtime.cliopts import run_main

    return run_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
