"""Latency, memory and accuracy benchmark of the runtime against the raw interpreter loop."""

from __future__ import annotations

import datetime
import gc
import importlib
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .backends import (
    BACKENDS,
    ONNX_BACKENDS,
    TFLITE,
    TFLITE_BACKENDS,
    OnnxBackend,
    TFLiteBackend,
    detect_format,
    pick_backend,
)
from .bench_report import (
    RAW,
    RUNTIME,
    SCHEMA_VERSION,
    BenchReport,
    check_plot_available,
    compare_reports,
    format_table,
    plot_latencies,
    read_report,
    write_report,
)
from .classifier import PIXELS, Classifier
from .errors import BackendUnavailableError, BenchError, DataFileError, EdgeMnistError
from .idx import ENV_DATA, TEST_IMAGES, TEST_LABELS, find_idx, read_idx
from .sysinfo import current_rss_bytes, environment, peak_rss_bytes, temperature_c, throttled

DEFAULT_BATCHES = (1, 8, 64)
DEFAULT_WARMUP = 20
DEFAULT_RUNS = 200
MAX_BATCH = 65_536
ACCURACY_CHUNK = 1_000
# Timed series alternate in this many rounds (see time_interleaved).
ROUNDS = 5


def summarize(samples_us: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Count, mean, sample std (n - 1), min, p50, p90, p99 and max of latencies in µs.

    Percentiles interpolate linearly between the closest ranks (numpy's default method).
    """
    a = np.asarray(samples_us, dtype=np.float64).ravel()
    if a.size == 0:
        raise ValueError("summarize() needs at least one sample")
    p50, p90, p99 = np.percentile(a, [50.0, 90.0, 99.0])
    return {
        "count": a.size,
        "mean": float(a.mean()),
        "std": float(a.std(ddof=1)) if a.size > 1 else 0.0,
        "min": float(a.min()),
        "p50": float(p50),
        "p90": float(p90),
        "p99": float(p99),
        "max": float(a.max()),
    }


def parse_batches(text: str) -> tuple[int, ...]:
    """Parse "1,8,64" into batch sizes (each 1..MAX_BATCH, duplicates dropped, order kept)."""
    sizes: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            size = int(part)
        except ValueError:
            raise BenchError(
                f"bad batch size {part!r} in --batch {text!r}.",
                "give positive integers separated by commas, e.g. --batch 1,8,64.",
            ) from None
        if not 1 <= size <= MAX_BATCH:
            raise BenchError(
                f"batch size {size} is out of range (1 to {MAX_BATCH}).",
                "give positive integers separated by commas, e.g. --batch 1,8,64.",
            )
        if size not in sizes:
            sizes.append(size)
    return tuple(sizes)


def parse_percent(text: str) -> float:
    """Parse a threshold given as "10%" or "10" into percent (10.0)."""
    value = text.strip().removesuffix("%").strip()
    try:
        pct = float(value)
    except ValueError:
        pct = math.nan
    if not (math.isfinite(pct) and pct >= 0):
        raise BenchError(
            f"bad percentage {text!r}.", "give a non-negative number, with or without %, e.g. 10%."
        )
    return pct


@dataclass(frozen=True)
class BenchConfig:
    """What to time: batch sizes, backends, threads, and how long to time each series."""

    batches: tuple[int, ...] = DEFAULT_BATCHES
    # Empty: the runtime picks one backend per model. Otherwise every listed backend that can
    # run a model's format is benchmarked on it.
    backends: tuple[str, ...] = ()
    threads: int | None = None
    warmup: int = DEFAULT_WARMUP
    runs: int | None = None
    seconds: float | None = None
    accuracy: int | None = None

    def validate(self) -> None:
        """Raise BenchError for values the benchmark cannot use."""
        if not self.batches:
            raise BenchError("no batch sizes given.", "pass e.g. --batch 1,8,64.")
        for b in self.batches:
            if not 1 <= b <= MAX_BATCH:
                raise BenchError(f"batch size {b} is out of range (1 to {MAX_BATCH}).")
        unknown = [b for b in self.backends if b not in BACKENDS]
        if unknown:
            raise BackendUnavailableError(
                f"unknown backend {unknown[0]!r}.", f"choose one of: {', '.join(BACKENDS)}."
            )
        if self.threads is not None and self.threads < 1:
            raise BenchError(f"--threads must be at least 1, got {self.threads}.")
        if self.warmup < 0:
            raise BenchError(f"--warmup must be 0 or more, got {self.warmup}.")
        if self.runs is not None and self.seconds is not None:
            raise BenchError("--runs and --seconds exclude each other.", "pass only one of them.")
        if self.runs is not None and self.runs < 1:
            raise BenchError(f"--runs must be at least 1, got {self.runs}.")
        if self.seconds is not None and not (math.isfinite(self.seconds) and self.seconds > 0):
            raise BenchError(f"--seconds must be a positive number, got {self.seconds}.")
        if self.accuracy is not None and self.accuracy < 1:
            raise BenchError(f"--accuracy must be at least 1 image, got {self.accuracy}.")

    @property
    def timed_runs(self) -> int | None:
        """Timed calls per series: --runs, the default, or None when timing by --seconds."""
        if self.seconds is not None:
            return None
        return DEFAULT_RUNS if self.runs is None else self.runs

    def to_dict(self) -> dict[str, Any]:
        return {
            "batches": list(self.batches),
            "backends": list(self.backends) or None,
            "threads": self.threads,
            "warmup": self.warmup,
            "runs": self.timed_runs,
            "seconds": self.seconds,
            "accuracy_images": self.accuracy,
        }


def time_calls(
    fn: Callable[[Any], object],
    arg: Any,
    warmup: int = DEFAULT_WARMUP,
    runs: int | None = None,
    seconds: float | None = None,
) -> np.ndarray:
    """Call ``fn(arg)`` ``warmup`` times untimed, then ``runs`` times (or for about ``seconds``),
    and return each timed call's duration in µs."""
    clock = time.perf_counter_ns
    for _ in range(warmup):
        fn(arg)
    # The garbage collector would add its pauses to whichever call triggers it.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        if seconds is None:
            ns = np.empty(DEFAULT_RUNS if runs is None else runs, dtype=np.int64)
            for i in range(len(ns)):
                t0 = clock()
                fn(arg)
                ns[i] = clock() - t0
        else:
            ns = np.empty(1024, dtype=np.int64)
            deadline = clock() + int(seconds * 1e9)
            n = 0
            while True:
                t0 = clock()
                fn(arg)
                t1 = clock()
                if n == len(ns):
                    ns = np.concatenate([ns, np.empty_like(ns)])
                ns[n] = t1 - t0
                n += 1
                if t1 >= deadline:
                    break
            ns = ns[:n]
    finally:
        if gc_was_enabled:
            gc.enable()
    return ns / 1e3


def time_interleaved(
    series: Sequence[tuple[str, Callable[[Any], object], Any]],
    warmup: int = DEFAULT_WARMUP,
    runs: int | None = None,
    seconds: float | None = None,
    rounds: int = ROUNDS,
) -> dict[str, np.ndarray]:
    """Time several (name, fn, arg) series in alternating rounds, so that a change of load,
    clock or temperature during the run affects them alike; return each one's µs per call."""
    total = DEFAULT_RUNS if runs is None and seconds is None else runs
    k = max(1, min(rounds, total)) if total is not None else rounds
    parts: dict[str, list[np.ndarray]] = {name: [] for name, _fn, _arg in series}
    for r in range(k):
        for name, fn, arg in series:
            n = None if total is None else total // k + (r < total % k)
            s = None if seconds is None else seconds / k
            parts[name].append(time_calls(fn, arg, warmup if r == 0 else 0, n, s))
    return {name: np.concatenate(p) for name, p in parts.items()}


def raw_loop(
    classifier: Classifier, images: np.ndarray
) -> tuple[Callable[[Any], object], np.ndarray] | None:
    """The bare interpreter call for ``classifier``'s model and its prepared input for ``images``.

    TFLite: set_tensor, invoke, get_tensor on an interpreter already resized and allocated for
    this batch; onnxruntime: session.run. No conversion, no checks. None for other backends.
    """
    prepared = np.ascontiguousarray(classifier.prepare(images))
    backend = classifier.backend
    if isinstance(backend, TFLiteBackend):
        # Resize and allocate through the wrapper so that it stays in step with the interpreter.
        backend.run(prepared)
        interpreter = backend.interpreter
        detail = interpreter.get_input_details()[0]
        if tuple(detail["shape"]) != prepared.shape:
            raise RuntimeError(
                f"interpreter input is {tuple(detail['shape'])}, not {prepared.shape}"
            )
        in_index = detail["index"]
        out_index = interpreter.get_output_details()[0]["index"]
        set_tensor, invoke, get_tensor = (
            interpreter.set_tensor,
            interpreter.invoke,
            interpreter.get_tensor,
        )

        def tflite_raw(x: np.ndarray) -> np.ndarray:
            set_tensor(in_index, x)
            invoke()
            return get_tensor(out_index)

        return tflite_raw, prepared
    if isinstance(backend, OnnxBackend):
        session = backend.session
        run = session.run
        in_name = session.get_inputs()[0].name
        out_names = [session.get_outputs()[0].name]

        def onnx_raw(x: np.ndarray) -> Any:
            return run(out_names, {in_name: x})[0]

        return onnx_raw, prepared
    return None


@dataclass(frozen=True)
class TestImages:
    """uint8 (N, 784) images to time and test with, their labels (or None) and their origin."""

    images: np.ndarray
    labels: np.ndarray | None
    source: str

    def batch(self, size: int) -> np.ndarray:
        """The first ``size`` images, repeated when there are fewer, as a contiguous array."""
        n = len(self.images)
        if size <= n:
            return np.ascontiguousarray(self.images[:size])
        return np.ascontiguousarray(np.resize(self.images, (size, PIXELS)))


def load_test_images(
    images: Path | None = None,
    labels: Path | None = None,
    data_dir: Path | None = None,
    need_labels: bool = False,
    random_count: int = 1_000,
) -> TestImages:
    """MNIST test images from explicit IDX files or a data folder (default $EDGE_MNIST_DATA);
    random uint8 images when none are found and no labels are needed."""
    env = os.environ.get(ENV_DATA)
    folder = data_dir if data_dir is not None else Path(env) if env else None
    if data_dir is not None and not data_dir.is_dir():
        raise DataFileError(
            f"{data_dir}: no such data folder.", "pass the folder holding the MNIST IDX files."
        )
    if images is None and folder is not None:
        images = find_idx(folder, TEST_IMAGES)
    if labels is None and folder is not None:
        labels = find_idx(folder, TEST_LABELS)
    if images is None:
        if need_labels:
            raise DataFileError(
                "--accuracy needs the MNIST test images and labels, and none were found"
                + (f" in {folder}." if folder is not None else "."),
                f"pass --images {TEST_IMAGES}.gz --labels {TEST_LABELS}.gz, or --data-dir, "
                f"or set ${ENV_DATA}.",
            )
        rng = np.random.default_rng(0)
        return TestImages(
            rng.integers(0, 256, (random_count, PIXELS), dtype=np.uint8), None, "random"
        )
    x = read_idx(images)
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28):
        raise DataFileError(f"{images}: expected uint8 images of 28x28, got {x.dtype} {x.shape}.")
    y: np.ndarray | None = None
    if labels is not None:
        y = read_idx(labels)
        if y.ndim != 1 or len(y) != len(x):
            raise DataFileError(
                f"{labels}: expected {len(x)} labels, got an array of shape {y.shape}."
            )
    elif need_labels:
        raise DataFileError(
            f"--accuracy needs labels for {images}.", f"pass --labels {TEST_LABELS}.gz."
        )
    return TestImages(x.reshape(len(x), PIXELS), y, str(images))


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
    table = TFLITE_BACKENDS if fmt == TFLITE else ONNX_BACKENDS
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


def _import_interpreter(fmt: str, backend: str | None) -> None:
    """Pick the backend as Classifier.load would and import its module, so that the model's
    load time does not include the first import of the interpreter package."""
    name = pick_backend(fmt, backend)
    importlib.import_module((TFLITE_BACKENDS if fmt == TFLITE else ONNX_BACKENDS)[name][0])


def _bench_classifier(
    path: Path,
    backend: str | None,
    config: BenchConfig,
    data: TestImages,
    report: BenchReport,
    progress: ProgressFn,
) -> dict[str, Any]:
    fmt = detect_format(path)
    _none, classifier, timing = _setup_and_load(
        lambda: _import_interpreter(fmt, backend),
        lambda: Classifier.load(path, backend, config.threads),
    )
    info = classifier.info
    entry: dict[str, Any] = {
        "name": path.name,
        "path": str(path),
        "size_bytes": path.stat().st_size,
        "format": info.format,
        "backend": info.backend,
        "backend_version": info.backend_version,
        "threads": info.threads,
        "input": info.input.to_dict(),
        "output": info.output.to_dict(),
        **timing,
    }
    first = data.batch(config.batches[0])
    t0 = time.perf_counter_ns()
    classifier.predict(first)
    entry["first_inference_us"] = (time.perf_counter_ns() - t0) / 1e3
    entry["first_inference_batch"] = config.batches[0]
    results: list[dict[str, Any]] = []
    for batch in config.batches:
        x = data.batch(batch)
        progress(f"{path.name} ({info.backend}) batch {batch}: runtime vs raw interpreter")
        raw = raw_loop(classifier, x)
        series: list[tuple[str, Callable[[Any], object], Any]] = [(RUNTIME, classifier.predict, x)]
        if raw is not None:
            series.append((RAW, raw[0], raw[1]))
        timed = time_interleaved(series, config.warmup, config.runs, config.seconds)
        rows = {mode: _result(batch, mode, samples) for mode, samples in timed.items()}
        for mode, samples in timed.items():
            report.samples[(path.name, info.backend, batch, mode)] = samples
        if RAW in rows:
            rows[RUNTIME]["overhead_vs_raw"] = (
                rows[RUNTIME]["latency_us"]["p50"] / rows[RAW]["latency_us"]["p50"]
            )
        results.extend(rows.values())
    entry["results"] = results
    entry["accuracy"] = None
    if config.accuracy:
        progress(f"{path.name} ({info.backend}): accuracy on {config.accuracy} images")
        entry["accuracy"] = _accuracy(lambda x: classifier.predict(x).digits, data, config.accuracy)
    entry["peak_rss_bytes"] = peak_rss_bytes()
    return entry


def _bench_external(
    model: ExternalModel,
    config: BenchConfig,
    data: TestImages,
    report: BenchReport,
    progress: ProgressFn,
) -> dict[str, Any]:
    path = model.path
    version, runner, timing = _setup_and_load(model.setup, lambda: model.load(path))
    entry: dict[str, Any] = {
        "name": path.name,
        "path": str(path),
        "size_bytes": path.stat().st_size,
        "format": model.format,
        "backend": model.backend,
        "backend_version": version,
        "threads": None,
        "input": None,
        "output": None,
        **timing,
    }
    first_call = next(iter(runner.calls.values()))
    first = runner.prepare(data.batch(config.batches[0]))
    t0 = time.perf_counter_ns()
    first_call(first)
    entry["first_inference_us"] = (time.perf_counter_ns() - t0) / 1e3
    entry["first_inference_batch"] = config.batches[0]
    results: list[dict[str, Any]] = []
    for batch in config.batches:
        x = runner.prepare(data.batch(batch))
        progress(f"{path.name} ({model.backend}) batch {batch}: {', '.join(runner.calls)}")
        timed = time_interleaved(
            [(mode, call, x) for mode, call in runner.calls.items()],
            config.warmup,
            config.runs,
            config.seconds,
        )
        for mode, samples in timed.items():
            report.samples[(path.name, model.backend, batch, mode)] = samples
            results.append(_result(batch, mode, samples))
    entry["results"] = results
    entry["accuracy"] = None
    if config.accuracy:
        progress(f"{path.name} ({model.backend}): accuracy on {config.accuracy} images")
        entry["accuracy"] = _accuracy(
            lambda x: np.asarray(first_call(runner.prepare(x))).argmax(axis=1),
            data,
            config.accuracy,
        )
    entry["peak_rss_bytes"] = peak_rss_bytes()
    return entry


def run_bench(
    models: Sequence[str | Path],
    config: BenchConfig | None = None,
    data: TestImages | None = None,
    external: Sequence[ExternalModel] = (),
    progress: ProgressFn | None = None,
) -> BenchReport:
    """Benchmark every model × backend × batch size: our runtime, the raw interpreter loop and
    any external models (timed last). ``data`` defaults to ``load_test_images()``: MNIST from
    $EDGE_MNIST_DATA when set, else random uint8 images."""
    config = config or BenchConfig()
    config.validate()
    say: ProgressFn = progress or (lambda _msg: None)
    if not models and not external:
        raise BenchError("no models to benchmark.", "pass one or more .tflite or .onnx files.")
    if data is None:
        data = load_test_images(need_labels=bool(config.accuracy))
    if config.accuracy and data.labels is None:
        raise DataFileError(
            "--accuracy needs the MNIST test labels.", "pass --labels or --data-dir."
        )
    # Check every file before timing anything, so a typo fails in a second, not after minutes.
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
    env = environment(config.threads)
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
    for path, backend in plan:
        report.data["models"].append(_bench_classifier(path, backend, config, data, report, say))
    for ext in external:
        report.data["models"].append(_bench_external(ext, config, data, report, say))
    env["temperature_end_c"] = temperature_c()
    env["throttled_end"] = throttled()
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m runtime.bench MODEL... [options]`` or ``... compare OLD NEW``: a plain-text
    twin of 'edge-mnist bench' for boards that have only this folder and an interpreter."""
    import argparse

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] in (["diff"], ["compare"]):
            parser = argparse.ArgumentParser(prog="python -m runtime.bench diff")
            parser.add_argument("old", type=Path)
            parser.add_argument("new", type=Path)
            parser.add_argument("--max-regression", default="10%")
            ns = parser.parse_args(args[1:])
            comparison = compare_reports(
                read_report(ns.old), read_report(ns.new), parse_percent(ns.max_regression)
            )
            for c in comparison.changes:
                change = "-" if c.change_pct is None else f"{c.change_pct:+.1f}%"
                print(f"{c.model} ({c.backend}) batch {c.batch} {c.mode}: {change} {c.status}")
            comparison.raise_on_regression()
            return 0
        parser = argparse.ArgumentParser(
            prog="python -m runtime.bench",
            description="Time models: our runtime against the raw interpreter loop.",
        )
        parser.add_argument("models", nargs="+", type=Path)
        parser.add_argument("--backend", action="append", default=[])
        parser.add_argument("--batch", default=",".join(map(str, DEFAULT_BATCHES)))
        parser.add_argument("--threads", type=int)
        parser.add_argument("--warmup", type=int, default=DEFAULT_WARMUP)
        parser.add_argument("--runs", type=int)
        parser.add_argument("--seconds", type=float)
        parser.add_argument("--accuracy", type=int)
        parser.add_argument("--images", type=Path)
        parser.add_argument("--labels", type=Path)
        parser.add_argument("--data-dir", type=Path)
        parser.add_argument("--json", type=Path)
        parser.add_argument("--plot", type=Path)
        ns = parser.parse_args(args)
        config = BenchConfig(
            parse_batches(ns.batch),
            tuple(ns.backend),
            ns.threads,
            ns.warmup,
            ns.runs,
            ns.seconds,
            ns.accuracy,
        )
        config.validate()
        if ns.plot is not None:
            check_plot_available()
        data = load_test_images(ns.images, ns.labels, ns.data_dir, need_labels=bool(ns.accuracy))
        report = run_bench(ns.models, config, data, progress=lambda m: print(m, file=sys.stderr))
        print(format_table(report))
        if ns.json is not None:
            write_report(report, ns.json)
        if ns.plot is not None:
            plot_latencies(report, ns.plot)
    except EdgeMnistError as exc:
        print(f"error: {exc.problem}", file=sys.stderr)
        if exc.fix:
            print(f"fix: {exc.fix}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
