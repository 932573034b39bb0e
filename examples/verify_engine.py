"""Check the numpy engine against a TFLite interpreter and time both: prints the figures.

    python examples/verify_engine.py ARTIFACTS_DIR MNIST_DIR [--reference litert|tflite-runtime]

Exactness on all 10,000 MNIST test images: for int8 models the count of images whose output
bytes are identical (and the largest difference in output steps), for float32 models top-1
agreement and the largest |Δ probability|. Speed (``--runs``, 0 to skip): batch-1 p50 and
batch-64 throughput of the engine's raw call against the interpreter's raw loop (set_tensor,
invoke, get_tensor), timed in alternating rounds by the runtime's benchmark loop, and which
BLAS numpy uses. Needs numpy, the runtime and the reference interpreter; no TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from edge_mnist.runtime.backends import SPECS, Backend, load_backend
from edge_mnist.runtime.bench import time_interleaved
from edge_mnist.runtime.idx import find_idx, read_idx


def numpy_backend(path: str | Path) -> Backend:
    """The engine through the backend table, as ``--backend numpy`` loads it."""
    return load_backend(SPECS["numpy"], Path(path))


REFERENCES = {
    "litert": "ai_edge_litert.interpreter",
    "tflite-runtime": "tflite_runtime.interpreter",
}
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OMP_NUM_THREADS")


def blas_description() -> str:
    try:
        from threadpoolctl import threadpool_info  # type: ignore[import-not-found]

        pools = [
            f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}, "
            f"{p.get('num_threads')} threads)"
            for p in threadpool_info()
            if p.get("user_api") == "blas"
        ]
        if pools:
            return "; ".join(pools)
    except ImportError:
        pass
    try:
        config = np.show_config(mode="dicts")  # type: ignore[call-arg]
        blas = config["Build Dependencies"]["blas"]
        return (
            f"{blas.get('name')} {blas.get('version')} ({blas.get('openblas configuration', '')})"
        )
    except (TypeError, KeyError):
        return "unknown (numpy < 1.25: see numpy.show_config())"


def model_input(images: np.ndarray, backend: Backend) -> np.ndarray:
    """The test images as the model takes them (same preprocessing for both engines)."""
    if backend.input.dtype == "float32":
        return images.astype(np.float32) / np.float32(255)
    scale, zero = backend.input.scale or 1.0, backend.input.zero_point or 0
    q = np.round(images.astype(np.float32) / np.float32(255) / np.float32(scale)) + zero
    return np.clip(q, -128, 127).astype(backend.input.dtype)


def interpreter_runner(module: Any, path: Path, batch: int) -> Callable[[np.ndarray], Any]:
    it = module.Interpreter(model_path=str(path))
    detail = it.get_input_details()[0]
    it.resize_tensor_input(detail["index"], (batch, *detail["shape"][1:]))
    it.allocate_tensors()
    in_index, out_index = detail["index"], it.get_output_details()[0]["index"]
    set_tensor, invoke, get_tensor = it.set_tensor, it.invoke, it.get_tensor

    def raw(x: np.ndarray) -> Any:
        set_tensor(in_index, x)
        invoke()
        return get_tensor(out_index)

    return raw


def exactness(module: Any, path: Path, x: np.ndarray) -> str:
    engine = numpy_backend(path)
    got = engine.run(x)
    expected = np.concatenate(
        [
            interpreter_runner(module, path, 1000)(x[i : i + 1000]).copy()
            for i in range(0, len(x), 1000)
        ]
    )
    if got.dtype == np.int8:
        same = int((got == expected).all(axis=1).sum())
        steps = int(np.abs(got.astype(np.int16) - expected).max())
        top1 = int((got.argmax(1) == expected.argmax(1)).sum())
        return (
            f"int8 output bytes identical on {same}/{len(x)} images; max difference {steps} "
            f"steps; top-1 identical {top1}/{len(x)}"
        )
    top1 = int((got.argmax(1) == expected.argmax(1)).sum())
    delta = float(np.abs(got - expected).max())
    return f"top-1 identical {top1}/{len(x)}; max |Δp| {delta:.2e}"


def speed(module: Any, path: Path, x: np.ndarray, runs: int) -> list[str]:
    lines = []
    engine = numpy_backend(path)
    for batch in (1, 64):
        xb = np.ascontiguousarray(x[:batch])
        times = time_interleaved(
            [("numpy", engine.raw, xb), ("reference", interpreter_runner(module, path, batch), xb)],
            runs=runs,
        )
        ours, theirs = (float(np.median(times[k])) for k in ("numpy", "reference"))
        if batch == 1:
            lines.append(
                f"batch 1: p50 numpy {ours:.1f} µs, reference {theirs:.1f} µs "
                f"(numpy/reference {ours / theirs:.2f}x; target ≤ 4x)"
            )
        else:
            lines.append(
                f"batch 64: numpy {batch / ours * 1e6:,.0f} img/s, reference "
                f"{batch / theirs * 1e6:,.0f} img/s (throughput ratio {theirs / ours:.2f}; "
                "target ≥ 0.8)"
            )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "artifacts", type=Path, help="folder with model_int8.tflite, model_float32.tflite"
    )
    parser.add_argument("mnist", type=Path, help="folder with t10k-images-idx3-ubyte[.gz]")
    parser.add_argument("--reference", choices=list(REFERENCES), default="litert")
    parser.add_argument(
        "--runs", type=int, default=1000, help="timed calls per batch size (0: skip)"
    )
    args = parser.parse_args()
    module = importlib.import_module(REFERENCES[args.reference])
    found = find_idx(args.mnist, "t10k-images-idx3-ubyte")
    if found is None:
        print(f"no t10k-images-idx3-ubyte[.gz] in {args.mnist}", file=sys.stderr)
        return 2
    images = read_idx(found).reshape(-1, 784)
    print(f"numpy {np.__version__}; BLAS: {blas_description()}")
    env = ", ".join(f"{k}={os.environ[k]}" for k in BLAS_VARIABLES if k in os.environ)
    print(f"reference: {args.reference}; environment: {env or 'no BLAS variables set'}")
    for name in ("model_int8.tflite", "model_float32.tflite"):
        path = args.artifacts / name
        x = model_input(images, numpy_backend(path))
        print(f"{name}: {exactness(module, path, x)}")
        if args.runs:
            for line in speed(module, path, x, args.runs):
                print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
