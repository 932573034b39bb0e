"""Tests for the latency benchmark (runtime/bench/, 'edge-mnist bench') on real interpreters."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from typer.testing import CliRunner

from edge_mnist.cli import app
from edge_mnist.runtime import Classifier, DataFileError
from edge_mnist.runtime.backends import SPECS, installed
from edge_mnist.runtime.bench import (
    RAW,
    RUNTIME,
    BenchConfig,
    BenchError,
    diff_reports,
    load_test_images,
    parse_batches,
    parse_percent,
    read_report,
    report_schema,
    summarize,
    time_calls,
    time_interleaved,
)

REPORT_SCHEMA = report_schema()
STAT_KEYS = ("count", "mean", "std", "min", "p50", "p90", "p99", "max")

pytestmark = pytest.mark.device

# The first TFLite interpreter installed here: litert in the main environment, tflite-runtime
# in the device-like one.
TFLITE_HERE = next(
    (n for n in ("litert", "tflite-runtime") if installed(SPECS[n])),
    "litert",
)

MODELS = ("model_int8.tflite", "model_float32.tflite", "model_int8.onnx", "model_float32.onnx")
BATCHES = (1, 4)
# The benchmark report times the ONNX models too.
NEEDS_ONNXRUNTIME = pytest.mark.interpreter("onnxruntime")
RUNS = 6
ACCURACY = 300

runner = CliRunner()


@pytest.fixture(scope="module")
def bench_artifacts(artifacts: Path) -> Path:
    """The shared artifacts folder, checked to hold the four exported models."""
    missing = [n for n in MODELS if not (artifacts / n).is_file()]
    if missing:
        pytest.fail(f"{artifacts} lacks {missing}")
    return artifacts


def _bench(*args: str) -> Any:
    return runner.invoke(app, ["bench", *args])


@pytest.fixture(scope="module")
def report_file(
    bench_artifacts: Path, mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """One short real benchmark of the four models, written with --json."""
    out = tmp_path_factory.mktemp("bench") / "report.json"
    result = _bench(
        *(str(bench_artifacts / n) for n in MODELS),
        "--batch",
        ",".join(map(str, BATCHES)),
        "--runs",
        str(RUNS),
        "--warmup",
        "2",
        "--accuracy",
        str(ACCURACY),
        "--data-dir",
        str(mnist_dir),
        "--json",
        str(out),
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def report(report_file: Path) -> dict[str, Any]:
    return json.loads(report_file.read_text())


# --- statistics -------------------------------------------------------------------------------


def test_summarize_known_values() -> None:
    # Shuffled on purpose: the statistics must not depend on the order of the samples.
    samples = [70.0, 10.0, 100.0, 40.0, 20.0, 90.0, 30.0, 60.0, 50.0, 80.0]
    s = summarize(samples)
    assert set(s) == set(STAT_KEYS)
    assert s["count"] == 10
    assert s["mean"] == pytest.approx(55.0)
    # Sample standard deviation (n - 1): sqrt(8250 / 9).
    assert s["std"] == pytest.approx(30.276503540974915)
    assert s["min"] == 10.0 and s["max"] == 100.0
    # Linear interpolation between closest ranks: rank q * (n - 1).
    assert s["p50"] == pytest.approx(55.0)
    assert s["p90"] == pytest.approx(91.0)
    assert s["p99"] == pytest.approx(99.1)


def test_summarize_one_sample_and_none() -> None:
    s = summarize(np.array([42.0]))
    assert s["std"] == 0.0
    assert s["min"] == s["p50"] == s["p99"] == s["max"] == s["mean"] == 42.0
    with pytest.raises(ValueError, match="at least one sample"):
        summarize([])


def test_parse_batches_and_percent() -> None:
    assert parse_batches("1,8,64") == (1, 8, 64)
    assert parse_batches(" 64, 1 ,64") == (64, 1)
    for bad, words in (
        ("0", "out of range"),
        ("a", "bad batch size 'a'"),
        ("1,,8", "bad batch size ''"),
        ("-1", "batch size -1 is out of range"),
        ("1.5", "bad batch size '1.5'"),
        ("100000", "batch size 100000 is out of range"),
    ):
        with pytest.raises(BenchError, match=re.escape(words)):
            parse_batches(bad)
    assert parse_percent("10%") == parse_percent("10") == parse_percent(" 10 % ") == 10.0
    for bad in ("abc", "-5", "nan", "inf", "%"):
        with pytest.raises(BenchError, match=re.escape(f"bad percentage {bad!r}")):
            parse_percent(bad)


def test_config_rejects_bad_values() -> None:
    BenchConfig().validate()
    for config, words in (
        (BenchConfig(runs=5, seconds=1.0), "--runs and --seconds exclude each other"),
        (BenchConfig(runs=0), "--runs must be at least 1, got 0"),
        (BenchConfig(seconds=0.0), "--seconds must be a positive number, got 0.0"),
        (BenchConfig(warmup=-1), "--warmup must be 0 or more, got -1"),
        (BenchConfig(accuracy=0), "--accuracy must be at least 1 image, got 0"),
        (BenchConfig(batches=()), "no batch sizes given"),
    ):
        with pytest.raises(BenchError, match=re.escape(words)):
            config.validate()


# --- timing loops on real interpreters ---------------------------------------------------------


def test_time_calls_counts() -> None:
    calls: list[int] = []
    samples = time_calls(calls.append, 1, warmup=3, runs=7)
    assert len(calls) == 10
    assert samples.shape == (7,) and samples.dtype == np.float64
    assert (samples >= 0).all()
    timed = time_interleaved(
        [("a", calls.append, 2), ("b", calls.append, 3)], warmup=1, runs=11, rounds=3
    )
    assert {k: len(v) for k, v in timed.items()} == {"a": 11, "b": 11}
    assert calls.count(2) == calls.count(3) == 12
    by_time = time_calls(calls.append, 4, warmup=0, seconds=0.005)
    assert len(by_time) >= 1 and calls.count(4) == len(by_time)


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=NEEDS_ONNXRUNTIME) if n.endswith(".onnx") else n for n in MODELS]
)
def test_raw_call_runs_the_same_model(bench_artifacts: Path, name: str) -> None:
    """The raw call must compute what the runtime's backend computes, at every batch size."""
    classifier = Classifier.load(bench_artifacts / name)
    images = np.random.default_rng(1).integers(0, 256, (64, 784), dtype=np.uint8)
    for batch in (1, 8, 3):
        prepared = classifier.prepare(images[:batch])
        call = classifier.backend.raw_call(prepared)
        assert prepared.shape == (batch, 784)
        raw = np.asarray(call(prepared))
        assert raw.shape == (batch, 10)
        np.testing.assert_array_equal(raw, classifier.backend.run(prepared))
        np.testing.assert_array_equal(raw.argmax(axis=1), classifier.predict(images[:batch]).digits)
        # Float pixels quantize to what the uint8 path feeds the interpreter.
        floats = images[:batch].astype(np.float32) / np.float32(255)
        np.testing.assert_array_equal(classifier.quantize(floats), prepared)


def test_random_images_without_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDGE_MNIST_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    data = load_test_images()
    assert data.source == "random" and data.labels is None
    assert data.images.dtype == np.uint8 and data.images.shape[1] == 784
    assert data.batch(len(data.images) + 5).shape == (len(data.images) + 5, 784)
    with pytest.raises(DataFileError, match="--accuracy needs"):
        load_test_images(need_labels=True)


def test_a_named_data_folder_must_hold_the_test_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDGE_MNIST_DATA", raising=False)
    with pytest.raises(DataFileError, match="no MNIST test images"):
        load_test_images(data_dir=tmp_path)
    with pytest.raises(DataFileError, match="no such data folder"):
        load_test_images(data_dir=tmp_path / "nope")
    monkeypatch.setenv("EDGE_MNIST_DATA", str(tmp_path))
    with pytest.raises(DataFileError, match=r"\$EDGE_MNIST_DATA"):
        load_test_images()


def test_the_user_cache_is_honoured(
    mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "edge-mnist" / "mnist"
    cache.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        src = mnist_dir / name
        if not src.exists():
            pytest.skip(f"{src} is not gzip-compressed here")
        (cache / name).symlink_to(src)
    monkeypatch.delenv("EDGE_MNIST_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    data = load_test_images(need_labels=True)
    assert data.source == str(cache / "t10k-images-idx3-ubyte.gz")
    assert data.images.shape == (10_000, 784) and data.labels is not None


# --- a real run's report -------------------------------------------------------------------------


@NEEDS_ONNXRUNTIME
def test_report_matches_schema(report: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(REPORT_SCHEMA)
    jsonschema.validate(report, REPORT_SCHEMA)
    assert report["schema_version"] == 1


@NEEDS_ONNXRUNTIME
def test_schema_rejects_a_broken_report(report: dict[str, Any]) -> None:
    broken = copy.deepcopy(report)
    del broken["models"][0]["results"][0]["latency_us"]["p50"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, REPORT_SCHEMA)
    broken = copy.deepcopy(report)
    broken["schema_version"] = 2
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, REPORT_SCHEMA)


@NEEDS_ONNXRUNTIME
def test_report_content(report: dict[str, Any], bench_artifacts: Path) -> None:
    assert report["settings"]["batches"] == list(BATCHES)
    assert report["input"]["source"].endswith(
        ("t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte")
    )
    env = report["environment"]
    assert env["cores"] >= 1 and env["python"] and "numpy" in env["packages"]
    assert [m["name"] for m in report["models"]] == list(MODELS)
    for m in report["models"]:
        assert m["size_bytes"] == (bench_artifacts / m["name"]).stat().st_size
        assert m["backend"] in ("litert", "tflite-runtime", "tensorflow", "onnxruntime")
        assert m["load_ms"] > 0 and m["setup_ms"] >= 0 and m["first_inference_us"] > 0
        assert m["peak_rss_bytes"] is None or m["peak_rss_bytes"] > 0
        assert m["accuracy"]["images"] == ACCURACY and m["accuracy"]["accuracy"] > 0.85
        rows = {(r["batch"], r["mode"]): r for r in m["results"]}
        assert set(rows) == {(b, mode) for b in BATCHES for mode in (RUNTIME, RAW)}
        for (batch, mode), r in rows.items():
            s = r["latency_us"]
            assert s["count"] == RUNS
            assert s["min"] <= s["p50"] <= s["p90"] <= s["p99"] <= s["max"]
            assert r["per_image_us"] == pytest.approx(s["p50"] / batch)
            assert r["throughput_ips"] == pytest.approx(batch * 1e6 / s["mean"])
            if mode == RUNTIME:
                raw = rows[(batch, RAW)]["latency_us"]["p50"]
                assert r["overhead_vs_raw"] == pytest.approx(s["p50"] / raw)
            else:
                assert r["overhead_vs_raw"] is None


def test_table_output(bench_artifacts: Path) -> None:
    result = _bench(
        str(bench_artifacts / "model_int8.tflite"), "--batch", "1", "--runs", "3", "--warmup", "0"
    )
    assert result.exit_code == 0, result.output
    for text in ("model_int8.tflite", "runtime", "raw", "p50", "vs raw", "cores"):
        assert text in result.output


@NEEDS_ONNXRUNTIME
@pytest.mark.interpreter("litert", "tflite-runtime")
def test_several_backends(bench_artifacts: Path, tmp_path: Path) -> None:
    """Each model runs on the listed backends that can run its format."""
    out = tmp_path / "r.json"
    result = _bench(
        str(bench_artifacts / "model_int8.tflite"),
        str(bench_artifacts / "model_int8.onnx"),
        "--backend",
        TFLITE_HERE,
        "--backend",
        "onnxruntime",
        "--batch",
        "2",
        "--runs",
        "2",
        "--warmup",
        "0",
        "--json",
        str(out),
        "-q",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert [(m["name"], m["backend"]) for m in data["models"]] == [
        ("model_int8.tflite", TFLITE_HERE),
        ("model_int8.onnx", "onnxruntime"),
    ]


def test_plot(bench_artifacts: Path, tmp_path: Path) -> None:
    png = tmp_path / "plots" / "latency.png"
    args = [
        str(bench_artifacts / "model_int8.onnx"),
        "--batch",
        "1,2",
        "--runs",
        "3",
        "--plot",
        str(png),
        "-q",
    ]
    result = _bench(*args)
    if importlib.util.find_spec("matplotlib") is None:
        assert result.exit_code == 2
        assert "pip install matplotlib" in result.output
        assert not png.exists()
    else:
        assert result.exit_code == 0, result.output
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert [p.name for p in png.parent.iterdir()] == ["latency.png"]


def test_keras_float_model(bench_artifacts: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    keras_file = bench_artifacts / "model.keras"
    if not keras_file.is_file():
        pytest.skip(f"{keras_file} is missing")
    out = tmp_path / "r.json"
    result = _bench(
        str(bench_artifacts / "model_int8.tflite"),
        "--keras",
        str(keras_file),
        "--batch",
        "1,3",
        "--runs",
        "2",
        "--warmup",
        "1",
        "--json",
        str(out),
        "-q",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    jsonschema.validate(data, REPORT_SCHEMA)
    keras_entry = data["models"][-1]
    assert keras_entry["name"] == "model.keras" and keras_entry["format"] == "keras"
    assert keras_entry["setup_ms"] > 0
    modes = {(r["batch"], r["mode"]) for r in keras_entry["results"]}
    assert modes == {(b, m) for b in (1, 3) for m in ("keras.predict", "keras.call")}


# --- compare -----------------------------------------------------------------------------------


def _slowed(
    report: dict[str, Any], factor: float, model: str, batch: int, mode: str
) -> dict[str, Any]:
    out = copy.deepcopy(report)
    for m in out["models"]:
        for r in m["results"]:
            if (m["name"], r["batch"], r["mode"]) == (model, batch, mode):
                for key in ("mean", "min", "p50", "p90", "p99", "max"):
                    r["latency_us"][key] *= factor
    return out


@NEEDS_ONNXRUNTIME
def test_diff_identical_passes(report_file: Path) -> None:
    result = _bench("diff", str(report_file), str(report_file))
    assert result.exit_code == 0, result.output
    assert "No regression" in result.output


@NEEDS_ONNXRUNTIME
def test_diff_2x_regression_fails(
    report: dict[str, Any], report_file: Path, tmp_path: Path
) -> None:
    slow = tmp_path / "slow.json"
    slow.write_text(json.dumps(_slowed(report, 2.0, "model_int8.onnx", 1, RUNTIME)))
    result = _bench("diff", str(report_file), str(slow), "--max-regression", "10%")
    assert result.exit_code == 1, result.output
    assert "regressed" in result.output and "model_int8.onnx" in result.output
    # A threshold above the change lets it through; "150" means 150%.
    lenient = _bench("diff", str(report_file), str(slow), "--max-regression", "150")
    assert lenient.exit_code == 0, lenient.output
    assert "No regression" in lenient.output and "within 150%" in lenient.output
    assert re.search(r"\+100\.0%\s+same", lenient.output), lenient.output
    # Faster is never a failure.
    faster = _bench("diff", str(slow), str(report_file))
    assert faster.exit_code == 0, faster.output
    assert re.search(r"-50\.0%\s+improved", faster.output), faster.output
    # The deprecated 'compare' alias is gone: the word is taken as a model file name.
    former = _bench("compare", str(report_file), str(slow))
    assert former.exit_code == 2, former.output


@NEEDS_ONNXRUNTIME
def test_compare_matches_by_name_backend_batch_and_mode(report: dict[str, Any]) -> None:
    slow = _slowed(report, 1.5, "model_float32.tflite", BATCHES[-1], RAW)
    comparison = diff_reports(report, slow, 10.0)
    assert [(c.model, c.batch, c.mode) for c in comparison.regressions] == [
        ("model_float32.tflite", BATCHES[-1], RAW)
    ]
    assert comparison.regressions[0].change_pct == pytest.approx(50.0)
    fewer = copy.deepcopy(report)
    fewer["models"] = fewer["models"][:1]
    statuses = {c.status for c in diff_reports(report, fewer, 10.0).changes}
    assert statuses == {"same", "gone"}


@NEEDS_ONNXRUNTIME
def test_compare_bad_inputs(report_file: Path, tmp_path: Path) -> None:
    missing = _bench("diff", str(report_file), str(tmp_path / "nope.json"))
    assert missing.exit_code == 2 and "no such report" in missing.output
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"schema_version": 99}))
    wrong_version = _bench("diff", str(report_file), str(other))
    assert wrong_version.exit_code == 2
    assert "not a bench report of schema version 1 (found 99)" in wrong_version.output
    # Nested deeper than the JSON parser goes: a clear error, not a RecursionError.
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    nested = _bench("diff", str(report_file), str(deep))
    assert nested.exit_code == 2, nested.output
    assert "cannot read the bench report (JSON nested too deeply)" in nested.output
    assert "Traceback" not in nested.output and "internal error" not in nested.output
    with pytest.raises(BenchError, match="nested too deeply"):
        read_report(deep)
    garbled = tmp_path / "garbled.json"
    garbled.write_bytes(b"\xff\xfe{")
    with pytest.raises(BenchError, match="not UTF-8"):
        read_report(garbled)
    bad = _bench("diff", str(report_file), str(report_file), "--max-regression", "ten")
    assert bad.exit_code == 2 and "bad percentage" in bad.output


@NEEDS_ONNXRUNTIME
def test_compare_with_nothing_in_common_exits_2(report: dict[str, Any], tmp_path: Path) -> None:
    renamed = copy.deepcopy(report)
    for m in renamed["models"]:
        m["name"] = "other_" + m["name"]
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(report))
    new.write_text(json.dumps(renamed))
    result = _bench("diff", str(old), str(new))
    assert result.exit_code == 2
    assert "no series in common" in result.output
    assert "error:" in result.output and "fix:" in result.output


# --- the command line ----------------------------------------------------------------------------


def test_help_explains_both_forms() -> None:
    result = _bench("--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "bench MODEL..." in text and "bench diff OLD.json NEW.json" in text


def test_missing_model_exits_2(tmp_path: Path) -> None:
    result = _bench(str(tmp_path / "missing.tflite"), "--runs", "1")
    assert result.exit_code == 2
    assert "no such model file" in result.output


@pytest.mark.parametrize("batch", ["0", "a", "1,,8"])
def test_bad_batch_exits_2(bench_artifacts: Path, batch: str) -> None:
    result = _bench(str(bench_artifacts / "model_int8.tflite"), "--batch", batch)
    assert result.exit_code == 2
    assert "batch" in result.output and "fix:" in result.output


def test_conflicting_options_exit_2(bench_artifacts: Path) -> None:
    model = str(bench_artifacts / "model_int8.tflite")
    both = _bench(model, "--runs", "5", "--seconds", "1")
    assert both.exit_code == 2
    assert "--runs and --seconds exclude each other" in both.output
    wrong = _bench(model, "--backend", "onnxruntime")
    assert wrong.exit_code == 2 and "cannot run tflite" in wrong.output


@NEEDS_ONNXRUNTIME
def test_missing_interpreter_fails_before_timing(bench_artifacts: Path) -> None:
    absent = [
        (spec.name, spec.dist)
        for spec in SPECS.values()
        if spec.format == "tflite" and not installed(spec)
    ]
    if not absent:
        pytest.skip("every TFLite interpreter is installed here")
    name, dist = absent[0]
    result = _bench(
        str(bench_artifacts / "model_int8.onnx"),
        str(bench_artifacts / "model_int8.tflite"),
        "--backend",
        "onnxruntime",
        "--backend",
        name,
    )
    assert result.exit_code == 2
    assert "not installed" in result.output and f"pip install {dist}" in result.output
    # Nothing was timed: the ONNX model listed first must not have been benchmarked. The
    # error is the whole output (a timed model would print its progress and table first).
    assert result.output.lstrip().startswith("error:"), result.output
    assert "model_int8.onnx" not in result.output and "p50" not in result.output


@NEEDS_ONNXRUNTIME
def test_python_dash_m_on_a_copied_runtime_folder(bench_artifacts: Path, tmp_path: Path) -> None:
    """A board with only the runtime folder: 'python -m runtime.bench' times and diffs."""
    import shutil
    import subprocess
    import sys

    import edge_mnist.runtime as rt

    shutil.copytree(
        Path(rt.__file__).parent, tmp_path / "runtime", ignore=shutil.ignore_patterns("__pycache__")
    )
    out = tmp_path / "board.json"

    def bench(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "runtime.bench", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    model = str(bench_artifacts / "model_int8.onnx")
    timed = bench(
        model,
        "--batch",
        "1",
        "--runs",
        "3",
        "--warmup",
        "0",
        "--pixels",
        "float",
        "--json",
        str(out),
    )
    assert timed.returncode == 0, timed.stderr
    assert "runtime-float" in timed.stdout and "raw-float" in timed.stdout
    report = json.loads(out.read_text())
    jsonschema.validate(report, REPORT_SCHEMA)
    assert {r["mode"] for r in report["models"][0]["results"]} == {"runtime-float", "raw-float"}
    # --json - : the report on stdout instead of the table, as 'edge-mnist bench' does.
    piped = bench(model, "--batch", "1", "--runs", "3", "--warmup", "0", "--json", "-", "-q")
    assert piped.returncode == 0, piped.stderr
    printed = json.loads(piped.stdout)
    jsonschema.validate(printed, REPORT_SCHEMA)
    assert printed["settings"]["runs"] == 3 and printed["settings"]["batches"] == [1]
    assert piped.stderr == ""  # -q: no progress lines either
    same = bench("diff", str(out), str(out))
    assert same.returncode == 0, same.stderr
    assert "model_int8.onnx (onnxruntime) batch 1 runtime-float: +0.0% same" in same.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = bench(model, "--data-dir", str(empty))
    assert missing.returncode == 2
    assert "no MNIST test images" in missing.stderr and "Traceback" not in missing.stderr


@NEEDS_ONNXRUNTIME
def test_the_reader_and_jsonschema_agree(report: dict[str, Any], tmp_path: Path) -> None:
    """read_report checks the same schema file with the keywords it uses."""
    good = tmp_path / "good.json"
    good.write_text(json.dumps(report))
    assert read_report(good) == report
    breakages = [
        lambda r: r["models"][0]["results"][0]["latency_us"].pop("p50"),
        lambda r: r["models"][0]["results"][0].update(batch=0),
        lambda r: r["models"][0].update(extra=1),
        lambda r: r["settings"].update(pixels=["rgb"]),
        lambda r: r["environment"].update(cores="two"),
    ]
    for i, breakage in enumerate(breakages):
        broken = copy.deepcopy(report)
        breakage(broken)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, REPORT_SCHEMA)
        path = tmp_path / f"broken{i}.json"
        path.write_text(json.dumps(broken))
        with pytest.raises(BenchError, match="malformed"):
            read_report(path)


# --- the plain-text twin: python -m edge_mnist.runtime.bench --------------------------------------


def _row(batch: int, mode: str, p50: float, overhead: float | None) -> dict[str, Any]:
    stats = {"p50": p50, "p90": p50 * 1.5, "p99": p50 * 2, "mean": p50}
    return {
        "batch": batch,
        "mode": mode,
        "latency_us": stats,
        "per_image_us": p50 / batch,
        "throughput_ips": batch * 1e6 / p50,
        "overhead_vs_raw": overhead,
    }


def test_format_table_lays_out_every_series() -> None:
    from edge_mnist.runtime.bench.render import format_table

    data = {
        "models": [
            {
                "name": "m.tflite",
                "backend": "litert",
                "results": [_row(1, RUNTIME, 12.5, 1.25), _row(1, RAW, 10.0, None)],
            },
            {
                "name": "long_name.onnx",
                "backend": "onnxruntime",
                "results": [_row(64, RAW, 2000.0, None)],
            },
        ]
    }
    # Names, backends, batch and mode left-aligned; numbers right-aligned; no trailing blanks.
    assert format_table(data).splitlines() == [
        "model           backend      batch  mode     p50 µs  p90 µs  p99 µs  µs/img    img/s  vs raw",
        "m.tflite        litert       1      runtime    12.5    18.8    25.0   12.50   80,000   1.25×",
        "m.tflite        litert       1      raw        10.0    15.0    20.0   10.00  100,000",
        "long_name.onnx  onnxruntime  64     raw      2000.0  3000.0  4000.0   31.25   32,000",
    ]


def test_bench_main_times_diffs_and_refuses(
    bench_artifacts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from edge_mnist.runtime.bench.__main__ import main

    out = tmp_path / "r.json"
    model = str(bench_artifacts / "model_int8.tflite")
    assert main([model, "--batch", "1", "--runs", "3", "--warmup", "0", "--json", str(out)]) == 0
    captured = capsys.readouterr()
    backend = read_report(out)["models"][0]["backend"]  # the first TFLite backend installed
    header, *rows = captured.out.splitlines()
    assert header.split()[:4] == ["model", "backend", "batch", "mode"]
    assert [r.split()[:4] for r in rows] == [
        ["model_int8.tflite", backend, "1", "runtime"],
        ["model_int8.tflite", backend, "1", "raw"],
    ]
    assert f"model_int8.tflite ({backend}) batch 1: runtime vs raw interpreter" in captured.err

    assert main(["diff", str(out), str(out)]) == 0
    assert f"model_int8.tflite ({backend}) batch 1 raw: +0.0% same" in capsys.readouterr().out

    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert main(["diff", str(out), str(deep)]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "JSON nested too deeply" in err and "fix:" in err

    assert main([str(tmp_path / "missing.tflite"), "--runs", "1"]) == 2
    assert "missing.tflite: no such model file" in capsys.readouterr().err


def test_python_dash_m_edge_mnist_runtime_bench(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "edge_mnist.runtime.bench", str(tmp_path / "nope.onnx")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert "error:" in proc.stderr and "nope.onnx: no such model file" in proc.stderr
    assert "Traceback" not in proc.stderr
