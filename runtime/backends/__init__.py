"""Interpreter backends: the table of every backend, picking one for a model, loading it.

Adding a backend takes one module in this package with a class that satisfies
``base.Backend`` and is built as ``Class(spec, path, threads)``, and one row in ``TABLE``.
Everything else (the CLI's choices and help, the benchmark, the versions in a bench report,
install hints) is derived from the table.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..artifacts import FORMATS, ONNX, TFLITE
from ..errors import BackendUnavailableError, InvalidInputError, ModelLoadError
from .base import Backend, RawCall, TensorInfo, validate_signature


@dataclass(frozen=True)
class BackendSpec:
    """One row of the backend table.

    ``module`` is imported to run the model (None: the backend needs no package beyond numpy);
    ``dists`` are the pip distributions that provide it, the first being the one to install;
    ``impl`` is "module:Class" in this package; ``verifies_files`` is False for interpreters
    that crash the process on a damaged file (those load it in a child process first);
    ``numpy1_until`` is the last release built for numpy 1 only, if that matters.
    """

    name: str
    format: str
    module: str | None
    dists: tuple[str, ...]
    install: str
    impl: str
    verifies_files: bool = True
    numpy1_until: tuple[int, int] | None = None

    @property
    def dist(self) -> str | None:
        return self.dists[0] if self.dists else None


# Rows in order of preference within each format: the first one installed is the default.
TABLE: tuple[BackendSpec, ...] = (
    BackendSpec(
        "litert",
        TFLITE,
        "ai_edge_litert.interpreter",
        ("ai-edge-litert",),
        "pip install ai-edge-litert (or 'edge-mnist[litert]')",
        "tflite:TFLiteBackend",
    ),
    BackendSpec(
        "tflite-runtime",
        TFLITE,
        "tflite_runtime.interpreter",
        ("tflite-runtime",),
        "on Python <= 3.11: pip install tflite-runtime 'numpy<2'",
        "tflite:TFLiteBackend",
        verifies_files=False,
        numpy1_until=(2, 14),
    ),
    # Needs nothing but numpy: after the installed interpreters, and before TensorFlow, which
    # crashes on damaged files that this engine verifies and refuses.
    BackendSpec(
        "numpy",
        TFLITE,
        None,
        (),
        "built in: the pure-NumPy engine needs no package",
        "numpy_engine:NumpyBackend",
    ),
    BackendSpec(
        "tensorflow",
        TFLITE,
        "tensorflow",
        ("tensorflow", "tensorflow-cpu"),
        "pip install tensorflow (large; prefer ai-edge-litert on devices)",
        "tflite:TFLiteBackend",
        verifies_files=False,
    ),
    BackendSpec(
        "onnxruntime",
        ONNX,
        "onnxruntime",
        ("onnxruntime",),
        "pip install onnxruntime (or 'edge-mnist[onnx]')",
        "onnxruntime:OnnxBackend",
    ),
)
SPECS: dict[str, BackendSpec] = {s.name: s for s in TABLE}
BACKENDS: tuple[str, ...] = tuple(SPECS)


def spec_for(name: str) -> BackendSpec:
    """The table's row for the backend ``name``; BackendUnavailableError for a name not in it."""
    spec = SPECS.get(name)
    if spec is None:
        raise BackendUnavailableError(
            f"unknown backend {name!r}.", f"choose one of: {', '.join(BACKENDS)}."
        )
    return spec


def check_threads(threads: int | None) -> None:
    """Refuse an interpreter thread count below 1 (None leaves it to the backend)."""
    if threads is not None and threads < 1:
        raise InvalidInputError(
            f"threads must be at least 1, got {threads}.",
            "pass --threads 1 or more, or leave it out for the backend's own choice.",
        )


def for_format(fmt: str) -> tuple[BackendSpec, ...]:
    """The backends that run ``fmt`` models, in order of preference."""
    return tuple(s for s in TABLE if s.format == fmt)


def installed(spec: BackendSpec) -> bool:
    """Whether the backend's package is installed (without importing it)."""
    if spec.module is None:
        return True
    try:
        return importlib.util.find_spec(spec.module.split(".")[0]) is not None
    except (ImportError, ValueError):
        return False


def conflict(spec: BackendSpec) -> str | None:
    """Why an installed backend cannot run here (a numpy-1-only build under numpy 2), or None."""
    if spec.numpy1_until is None or int(np.__version__.split(".")[0]) < 2:
        return None
    import importlib.metadata

    try:
        version = importlib.metadata.version(spec.dists[0])
        release = tuple(int(p) for p in version.split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None
    if release > spec.numpy1_until:
        return None
    return f"{spec.dists[0]} {version} was built for numpy 1 and cannot run under numpy {np.__version__}."


def _install_hint(fmt: str) -> str:
    # The two most preferred packages: enough choice without advertising the last resorts.
    return "; or ".join([s.install for s in for_format(fmt) if s.module is not None][:2])


def pick_backend(fmt: str, backend: str | None = None) -> BackendSpec:
    """The named backend, checked to fit ``fmt`` and be installed, or the first usable one."""
    fitting = for_format(fmt)
    if backend is not None:
        spec = spec_for(backend)
        if spec.format != fmt:
            raise BackendUnavailableError(
                f"backend {backend!r} cannot run {fmt} models.",
                f"for {fmt} use one of: {', '.join(s.name for s in fitting)}.",
            )
        if not installed(spec):
            raise BackendUnavailableError(f"backend {backend!r} is not installed.", spec.install)
        problem = conflict(spec)
        if problem:
            raise BackendUnavailableError(
                problem, f"pip install 'numpy<2', or use another backend: {_install_hint(fmt)}"
            )
        return spec
    skipped = []
    for spec in fitting:
        if not installed(spec):
            continue
        problem = conflict(spec)
        if problem:
            skipped.append(problem)
            continue
        return spec
    message = f"no interpreter for {fmt} models is installed."
    raise BackendUnavailableError(" ".join([message, *skipped]), _install_hint(fmt))


def detect_format(path: Path) -> str:
    """Tell a TFLite flatbuffer from an ONNX protobuf by content (the suffix only words the error)."""
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except FileNotFoundError:
        raise ModelLoadError(f"{path}: no such model file.") from None
    except OSError as exc:
        raise ModelLoadError(f"{path}: cannot read it ({exc.strerror}).") from None
    if not head:
        raise ModelLoadError(f"{path}: the file is empty.", "export the model again.")
    if head[4:8] == b"TFL3":
        return TFLITE
    # An ONNX ModelProto starts with field 1 (ir_version, varint): tag byte 0x08.
    if head[0] == 0x08:
        return ONNX
    kind = {".tflite": "TFLite", ".onnx": "ONNX"}.get(path.suffix.lower(), "model")
    raise ModelLoadError(
        f"{path}: not a valid {kind} file (no TFLite 'TFL3' identifier, no ONNX header).",
        "pass a .tflite or .onnx file written by 'edge-mnist export'.",
    )


NUMPY = "numpy"


def load_backend(
    spec: BackendSpec, path: Path, threads: int | None = None, rounding: str | None = None
) -> Backend:
    """Load the model into the backend ``spec`` names and check that it classifies digits.
    ``rounding`` (the NumPy engine's variant) is passed to the numpy backend only."""
    module, _, cls = spec.impl.partition(":")
    factory = getattr(importlib.import_module(f".{module}", __name__), cls)
    impl: Backend = (
        factory(spec, path, threads)
        if rounding is None or spec.name != NUMPY
        else factory(spec, path, threads, rounding=rounding)
    )
    validate_signature(path, impl.input, impl.output)
    return impl


def open_backend(
    path: str | Path,
    backend: str | None = None,
    threads: int | None = None,
    rounding: str | None = None,
) -> tuple[str, Backend]:
    """Detect the model's format, pick an interpreter and load the model into it
    (``rounding``: the NumPy engine's variant, which implies the numpy backend)."""
    path = Path(path)
    check_threads(threads)
    if rounding is not None:  # imported only then: predict's cold start pays nothing for it
        from .rounding import check_rounding_backend

        backend = check_rounding_backend(backend, rounding)
    fmt = detect_format(path)
    return fmt, load_backend(pick_backend(fmt, backend), path, threads, rounding)


__all__ = [
    "BACKENDS",
    "FORMATS",
    "ONNX",
    "SPECS",
    "TABLE",
    "TFLITE",
    "Backend",
    "BackendSpec",
    "RawCall",
    "TensorInfo",
    "check_threads",
    "conflict",
    "detect_format",
    "for_format",
    "installed",
    "load_backend",
    "open_backend",
    "pick_backend",
    "spec_for",
]
