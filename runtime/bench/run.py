"""Run the benchmark: load each model, time our runtime beside the raw interpreter call in one
timing loop, and collect load time, memory and accuracy into a report."""

from __future__ import annotations

import datetime
import gc
import importlib
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..backends import BackendSpec, detect_format, for_format, pick_backend
from ..classifier import Classifier
from ..errors import BackendUnavailableError, DataFileError
from ..sysinfo import (
    board_id,
    current_rss_bytes,
    environment,
    peak_rss_bytes,
    temperature_c,
    throttled,
)
from .config import BenchConfig
from .data import TestImages, load_test_images
from .errors import BenchError
from .report import RAW, RUNTIME, SCHEMA_VERSION, BenchReport
from .timing import summarize, time_interleaved

ACCURACY_CHUNK = 1_000
# Mode names per pixel form: our runtime and the raw call fed the same input.
MODES = {"uint8": (RUNTIME, RAW), "float": (f"{RUNTIME}-float", f"{RAW}-float")}


@dataclass(frozen=True)
class ExternalRunner:
    """A loaded external model: ``prepare`` turns uint8 (N, 784) images into its input (outside
    the timed region) and each named call, timed on that input, returns (N, 10) scores."""

    prepare: Callable[[np.ndarray], Any]
    calls: dict[str, Callable[[Any], Any]]


@dataclass(frozen=True)
class ExternalModel:
    """A model the runtime does not load itself (the float Keras model), timed by the same loops.

    ``setup`` runs first (e.g. importing TensorFlow; reported as setup_ms) and returns the
    backend's version; ``load`` loads the file (reported as load_ms).
    """

    path: Path
    format: str
    backend: str
    setup: Callable[[], str]
    load: Callable[[Path], ExternalRunner]


ProgressFn = Callable[[str], None]


def _result(batch: int, mode: str, samples_us: np.ndarray) -> dict[str, Any]:
    stats = summarize(samples_us)
    return {
        "batch": batch,
        "mode": mode,
        "latency_us": stats,
        # The typical cost of one image (robust to pauses), and the sustained rate (not).
        "per_image_us": stats["p50"] / batch,
        "throughput_ips": batch * 1e6 / stats["mean"] if stats["mean"] > 0 else None,
        "overhead_vs_raw": None,
    }


def _backends_for(path: Path, fmt: str, requested: Sequence[str]) -> list[str | None]:
    if not requested:
        return [None]
    table = [spec.name for spec in for_format(fmt)]
    fit: list[str | None] = [b for b in requested if b in table]
    if not fit:
        if len(requested) == 1:
            problem = f"{path}: backend {requested[0]!r} cannot run {fmt} models."
        else:
            problem = f"{path}: none of the backends {', '.join(requested)} can run {fmt} models."
        raise BackendUnavailableError(
            problem,
            f"for {fmt} use one of: {', '.join(table)}.",
        )
    return fit


def _accuracy(
    predict: Callable[[np.ndarray], np.ndarray], data: TestImages, n: int
) -> dict[str, Any]:
    if data.labels is None:
        raise DataFileError("--accuracy needs test labels.")
    n = min(n, len(data.images))
    correct = 0
    for i in range(0, n, ACCURACY_CHUNK):
        chunk = data.images[i : min(i + ACCURACY_CHUNK, n)]
        digits = predict(chunk)
        correct += int(np.count_nonzero(digits == data.labels[i : i + len(chunk)]))
    return {"images": n, "correct": correct, "accuracy": correct / n}


Snapshot = tuple[int | None, int | None]


def _snapshot() -> Snapshot:
    gc.collect()
    return current_rss_bytes(), peak_rss_bytes()


def _rss_increase(a: Snapshot, b: Snapshot) -> tuple[int | None, str | None]:
    if a[0] is not None and b[0] is not None:
        return max(0, b[0] - a[0]), "statm"
    if a[1] is not None and b[1] is not None:
        # Without /proc only the growth of the peak is known: a lower bound of the increase.
        return b[1] - a[1], "maxrss"
    return None, None


def _setup_and_load(
    setup: Callable[[], Any], load: Callable[[], Any]
) -> tuple[Any, Any, dict[str, Any]]:
    """Run ``setup`` (importing the interpreter or framework) and then ``load`` (the model file),
    timing each and measuring the memory each adds."""
    m0 = _snapshot()
    t0 = time.perf_counter_ns()
    prepared = setup()
    t1 = time.perf_counter_ns()
    m1 = _snapshot()
    t2 = time.perf_counter_ns()
    loaded = load()
    t3 = time.perf_counter_ns()
    m2 = _snapshot()
    setup_rss, _method = _rss_increase(m0, m1)
    load_rss, method = _rss_increase(m1, m2)
    return (
        prepared,
        loaded,
        {
            "setup_ms": (t1 - t0) / 1e6,
            "setup_rss_increase_bytes": setup_rss,
            "load_ms": (t3 - t2) / 1e6,
            "rss_before_bytes": m1[0],
            "rss_increase_bytes": load_rss,
            "rss_method": method,
        },
    )


def _import_interpreter(fmt: str, backend: str | None) -> BackendSpec:
    """Pick the backend as Classifier.load would and import its module, so that the model's
    load time does not include the first import of the interpreter package."""
    spec = pick_backend(fmt, backend)
    if spec.module is not None:
        importlib.import_module(spec.module)
    return spec


# A batch's timed calls: (mode, call, its input).
Series = list[tuple[str, Callable[[Any], object], Any]]


def _series(classifier: Classifier, images: np.ndarray, pixels: Sequence[str]) -> Series:
    """Per pixel form, our runtime's call and the raw interpreter call on the same input: for
    uint8 the raw call gets the input already converted; for floats it quantizes them too
    (the same quantization, without the checks)."""
    prepared = np.ascontiguousarray(classifier.prepare(images))
    call = classifier.backend.raw_call(prepared)
    quantize = classifier.quantize

    def quantized_call(x: np.ndarray) -> np.ndarray:
        return call(quantize(x))

    series: Series = []
    for form in pixels:
        ours, raw = MODES[form]
        if form == "uint8":
            series += [(ours, classifier.predict, images), (raw, call, prepared)]
        else:
            floats = images.astype(np.float32) / np.float32(255)
            series += [(ours, classifier.predict, floats), (raw, quantized_call, floats)]
    return series


def _entry(path: Path, fmt: str, backend: str, version: str | None, **more: Any) -> dict[str, Any]:
    """The facts of one model × backend that every report entry carries."""
    return {
        "name": path.name,
        "path": str(path),
        "size_bytes": path.stat().st_size,
        "format": fmt,
        "backend": backend,
        "backend_version": version,
        **more,
    }


def _measure(
    entry: dict[str, Any],
    first_call: Callable[[np.ndarray], object],
    series_for: Callable[[np.ndarray], Series],
    what: str,
    digits: Callable[[np.ndarray], np.ndarray],
    run: tuple[BenchConfig, TestImages, BenchReport, ProgressFn],
) -> dict[str, Any]:
    """The one measuring path for our runtime and external models alike: the first call, then
    per batch size the series of calls timed interleaved in one loop, then accuracy and memory.
    ``series_for`` gives a batch's (mode, call, input) list; ``digits`` classifies images."""
    config, data, report, progress = run
    name, backend = entry["name"], entry["backend"]
    first = data.batch(config.batches[0])
    t0 = time.perf_counter_ns()
    first_call(first)
    entry["first_inference_us"] = (time.perf_counter_ns() - t0) / 1e3
    entry["first_inference_batch"] = config.batches[0]
    results: list[dict[str, Any]] = []
    for batch in config.batches:
        series = series_for(data.batch(batch))
        progress(f"{name} ({backend}) batch {batch}: {what}")
        timed = time_interleaved(series, config.warmup, config.runs, config.seconds)
        rows = {mode: _result(batch, mode, samples) for mode, samples in timed.items()}
        for mode, samples in timed.items():
            report.samples[(name, backend, batch, mode)] = samples
        for ours, raw in MODES.values():
            if ours in rows and raw in rows:
                ratio = rows[ours]["latency_us"]["p50"] / rows[raw]["latency_us"]["p50"]
                rows[ours]["overhead_vs_raw"] = ratio
        results.extend(rows.values())
    entry["results"] = results
    entry["accuracy"] = None
    if config.accuracy:
        progress(f"{name} ({backend}): accuracy on {config.accuracy} images")
        entry["accuracy"] = _accuracy(digits, data, config.accuracy)
    entry["peak_rss_bytes"] = peak_rss_bytes()
    return entry


def _bench_classifier(
    path: Path, backend: str | None, run: tuple[BenchConfig, TestImages, BenchReport, ProgressFn]
) -> dict[str, Any]:
    config = run[0]
    fmt = detect_format(path)
    _none, classifier, timing = _setup_and_load(
        lambda: _import_interpreter(fmt, backend),
        lambda: Classifier.load(path, backend, config.threads),
    )
    info = classifier.info
    entry = _entry(
        path,
        info.format,
        info.backend,
        info.backend_version,
        threads=info.threads,
        input=info.input.to_dict(),
        output=info.output.to_dict(),
        **timing,
    )
    return _measure(
        entry,
        classifier.predict,
        lambda x: _series(classifier, x, config.pixels),
        "runtime vs raw interpreter",
        lambda x: classifier.predict(x).digits,
        run,
    )


def _bench_external(
    model: ExternalModel, run: tuple[BenchConfig, TestImages, BenchReport, ProgressFn]
) -> dict[str, Any]:
    path = model.path
    version, runner, timing = _setup_and_load(model.setup, lambda: model.load(path))
    entry = _entry(
        path, model.format, model.backend, version, threads=None, input=None, output=None, **timing
    )
    first_call = next(iter(runner.calls.values()))

    def series_for(x: np.ndarray) -> Series:
        prepared = runner.prepare(x)
        return [(mode, call, prepared) for mode, call in runner.calls.items()]

    return _measure(
        entry,
        lambda x: first_call(runner.prepare(x)),
        series_for,
        ", ".join(runner.calls),
        lambda x: np.asarray(first_call(runner.prepare(x))).argmax(axis=1),
        run,
    )


def run_bench(
    models: Sequence[str | Path],
    config: BenchConfig | None = None,
    data: TestImages | None = None,
    external: Sequence[ExternalModel] = (),
    progress: ProgressFn | None = None,
    board: str | None = None,
) -> BenchReport:
    """Benchmark every model × backend × batch size: our runtime, the raw interpreter loop and
    any external models (timed last). ``data`` defaults to ``load_test_images()``: MNIST from the
    data folder (--data-dir, $EDGE_MNIST_DATA, the user cache), else random uint8 images."""
    config = config or BenchConfig()
    config.validate()
    say: ProgressFn = progress or (lambda _msg: None)
    if not models and not external:
        raise BenchError("no models to benchmark.", "pass one or more .tflite or .onnx files.")
    # Check every file before timing anything (and before looking for MNIST), so a typo fails
    # in a second, naming the file, not after minutes or as missing data.
    plan: list[tuple[Path, str | None]] = []
    for model in models:
        path = Path(model)
        fmt = detect_format(path)
        for backend in _backends_for(path, fmt, config.backends):
            pick_backend(fmt, backend)  # raises now if that interpreter is not installed
            plan.append((path, backend))
    for ext in external:
        if not ext.path.is_file():
            raise BenchError(f"{ext.path}: no such model file.")
    if data is None:
        data = load_test_images(need_labels=bool(config.accuracy))
    if config.accuracy and data.labels is None:
        raise DataFileError(
            "--accuracy needs the MNIST test labels.", "pass --labels or --data-dir."
        )
    env = environment(config.threads)
    # The fleet's key: 'bench gate' compares a report with the baseline of the same board id.
    env["board_id"] = board or board_id(env, platform.node())
    report = BenchReport(
        {
            "schema_version": SCHEMA_VERSION,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "settings": config.to_dict(),
            "input": {
                "source": data.source,
                "images": len(data.images),
                "labels": data.labels is not None,
            },
            "environment": env,
            "models": [],
        }
    )
    run = (config, data, report, say)
    for path, backend in plan:
        report.data["models"].append(_bench_classifier(path, backend, run))
    for ext in external:
        report.data["models"].append(_bench_external(ext, run))
    env["temperature_end_c"] = temperature_c()
    env["throttled_end"] = throttled()
    return report
