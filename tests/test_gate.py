"""Tests for the accuracy gate: edge_mnist.gate.run_gate and the 'check' command.

Real MNIST, real models and real interpreters. The session ``artifacts`` folder is read-only:
every test that changes a file works on a copy.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from edge_mnist.cli import app
from edge_mnist.errors import CheckFailedError, UsageError
from edge_mnist.gate import run_gate, write_junit
from edge_mnist.runtime.artifacts import MANIFEST_FILE
from edge_mnist.runtime.atomic import TEMP_MARK

ARTIFACTS = ("model_int8.tflite", "model_float32.tflite", "model_int8.onnx", "model_float32.onnx")
MAX_DROP = 0.5


@dataclass
class Run:
    """One 'check' invocation and the reports it wrote."""

    result: Any
    json_path: Path
    junit_path: Path

    @property
    def report(self) -> dict[str, Any]:
        return json.loads(self.json_path.read_text())

    def entry(self, name: str) -> dict[str, Any]:
        return next(a for a in self.report["artifacts"] if a["name"] == name)

    @property
    def junit(self) -> ET.Element:
        return ET.parse(self.junit_path).getroot()


def _check(folder: Path, mnist_dir: Path, reports: Path, *extra: str) -> Run:
    reports.mkdir(parents=True, exist_ok=True)
    json_path, junit_path = reports / "report.json", reports / "junit.xml"
    paths = ["--artifacts", str(folder), "--data-dir", str(mnist_dir)]
    reports_args = ["--json", str(json_path), "--junit", str(junit_path)]
    result = CliRunner().invoke(app, ["check", *paths, *reports_args, *extra])
    assert "Traceback" not in result.output, result.output
    return Run(result, json_path, junit_path)


def _manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / MANIFEST_FILE).read_text())


def _copy(artifacts: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "artifacts"
    shutil.copytree(artifacts, folder)
    return folder


def _error_line(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def _litert_accuracy(path: Path, x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of a .tflite file through the raw LiteRT interpreter (not the project's runtime)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(inp["index"], [len(x), 784])
    interpreter.allocate_tensors()
    scale, zero = inp["quantization"]
    feed = (
        np.clip(np.round(x / np.float32(scale)) + zero, -128, 127).astype(np.int8) if scale else x
    )
    interpreter.set_tensor(inp["index"], feed)
    interpreter.invoke()
    return float(np.mean(interpreter.get_tensor(out["index"]).argmax(axis=1) == y))


# ---------------------------------------------------------------- good artifacts


@pytest.fixture(scope="module")
def good(artifacts: Path, mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    pytest.importorskip("tensorflow")
    return _check(artifacts, mnist_dir, tmp_path_factory.mktemp("good-reports"))


def test_check_passes_the_good_artifacts(good: Run) -> None:
    assert good.result.exit_code == 0, good.result.output
    rows = [
        line for line in good.result.stdout.splitlines() if line.strip("│ ").startswith("model_")
    ]
    assert len(rows) == len(ARTIFACTS)
    assert all("pass" in row and "ok" in row for row in rows), rows
    assert "FAIL" not in good.result.stdout and "MISMATCH" not in good.result.stdout
    assert "Gate passed" in good.result.stdout
    assert "error:" not in good.result.stderr


def test_check_json_report_has_every_artifact_accuracy(good: Run, artifacts: Path) -> None:
    manifest = _manifest(artifacts)
    report = good.report
    assert report["passed"] is True
    assert report["test_images"] == 10_000
    assert report["max_drop_pp"] == MAX_DROP
    float_acc = report["float_accuracy"]
    assert float_acc == pytest.approx(manifest["source_model"]["test_accuracy"], abs=1e-6)
    assert (
        [a["name"] for a in report["artifacts"]] == list(manifest["artifacts"]) == list(ARTIFACTS)
    )
    for a in report["artifacts"]:
        # The gate recomputes on all 10,000 images what export measured and recorded.
        assert a["accuracy"] == pytest.approx(
            manifest["artifacts"][a["name"]]["test_accuracy"], abs=1e-6
        )
        assert a["drop_pp"] == pytest.approx((float_acc - a["accuracy"]) * 100, abs=1e-3)
        assert a["drop_pp"] <= MAX_DROP
        assert a["sha256_ok"] is True and a["passed"] is True and a["reasons"] == []
        assert a["machine"] == platform.machine()
        assert a["backend"].split()[0] == (
            "onnxruntime" if a["name"].endswith(".onnx") else "litert"
        )
        # Only the int8 ONNX figure is tied to the CPU architecture (see the emulation stage).
        assert (a["note"] is not None) == (a["name"] == "model_int8.onnx")
    assert "model_int8.onnx: onnxruntime's int8 kernels differ" in " ".join(
        good.result.stdout.split()
    )


def test_check_junit_has_one_passing_testcase_per_artifact(good: Run) -> None:
    suite = good.junit
    assert suite.tag == "testsuite"
    assert suite.get("tests") == str(len(ARTIFACTS)) and suite.get("failures") == "0"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == list(ARTIFACTS)
    assert suite.findall(".//failure") == []
    for case in cases:
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert float(props["accuracy"]) == pytest.approx(good.entry(case.get("name"))["accuracy"])


def test_run_gate_library_call(artifacts: Path, mnist_dir: Path) -> None:
    pytest.importorskip("tensorflow")
    report = run_gate(artifacts, max_drop=MAX_DROP, data_dir=mnist_dir)
    assert report.passed and report.failures() == []
    assert [a.name for a in report.artifacts] == list(ARTIFACTS)
    assert all(
        a.sha256_ok and a.accuracy is not None and a.accuracy > 0.9 for a in report.artifacts
    )
    assert report.to_dict()["passed"] is True


def test_check_backend_numpy_gates_what_a_board_without_an_interpreter_computes(
    good: Run, artifacts: Path, mnist_dir: Path, tmp_path: Path
) -> None:
    """--backend numpy runs the .tflite files on the NumPy engine (bit-exact with litert, so the
    same accuracy) and leaves the ONNX files on onnxruntime."""
    run = _check(artifacts, mnist_dir, tmp_path, "--backend", "numpy")
    assert run.result.exit_code == 0, run.result.output
    for name in ARTIFACTS:
        assert run.entry(name)["accuracy"] == good.entry(name)["accuracy"], name
    bad = _check(artifacts, mnist_dir, tmp_path / "bad", "--backend", "nope")
    assert bad.result.exit_code == 2
    assert "unknown backend 'nope'" in _error_line(bad.result)


# ---------------------------------------------------------------- an artifact that lost accuracy


@pytest.fixture(scope="module")
def damaged(
    artifacts: Path, mnist: Any, mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Run]:
    """A copy of the artifacts whose model_int8.tflite is a real int8 export of a model with 90%
    of hidden1's weights zeroed; the manifest's sha256 and size are updated, so only the
    accuracy is wrong."""
    pytest.importorskip("tensorflow")
    import keras

    from edge_mnist.converters import to_tflite
    from edge_mnist.export import calibration_set

    folder = _copy(artifacts, tmp_path_factory.mktemp("damaged"))
    model = keras.models.load_model(folder / "model.keras", compile=False)
    kernel = model.get_layer("hidden1").kernel
    weights = np.array(kernel.numpy())
    weights[np.random.default_rng(0).random(weights.shape) < 0.9] = 0.0
    kernel.assign(weights)
    target = folder / "model_int8.tflite"
    target.write_bytes(to_tflite(model, "int8", calibration_set(mnist, 500)))
    manifest = _manifest(folder)
    manifest["artifacts"][target.name]["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
    manifest["artifacts"][target.name]["size_bytes"] = target.stat().st_size
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
    return folder, _check(folder, mnist_dir, tmp_path_factory.mktemp("damaged-reports"))


@pytest.mark.slow
def test_check_rejects_an_artifact_that_lost_accuracy(
    damaged: tuple[Path, Run], mnist: Any
) -> None:
    folder, run = damaged
    assert run.result.exit_code == 1, run.result.output
    assert "the accuracy gate failed" in _error_line(run.result)

    bad = run.entry("model_int8.tflite")
    float_acc = run.report["float_accuracy"]
    # The gate's number is the file's real accuracy, measured here with the raw interpreter.
    assert bad["accuracy"] == pytest.approx(
        _litert_accuracy(folder / "model_int8.tflite", mnist.x_test, mnist.y_test), abs=1e-4
    )
    assert bad["drop_pp"] > MAX_DROP
    assert bad["sha256_ok"] is True and bad["passed"] is False
    assert len(bad["reasons"]) == 1

    message = run.result.stderr
    assert (
        f"model_int8.tflite: accuracy {bad['accuracy']:.2%} is {bad['drop_pp']:.2f} points below "
        f"the float model's {float_acc:.2%} (allowed: {MAX_DROP})"
    ) in message
    assert "sha256" not in message
    for name in ARTIFACTS[1:]:
        assert run.entry(name)["passed"] is True
        assert name not in message
    assert "FAIL" in run.result.stdout


@pytest.mark.slow
def test_check_junit_marks_the_failing_artifact(damaged: tuple[Path, Run]) -> None:
    _, run = damaged
    suite = run.junit
    assert suite.get("tests") == "4" and suite.get("failures") == "1"
    failing = {c.get("name"): c.find("failure") for c in suite.findall("testcase")}
    assert list(failing) == list(ARTIFACTS)
    failure = failing.pop("model_int8.tflite")
    assert failure is not None
    assert "points below the float model" in failure.get("message", "")
    assert all(f is None for f in failing.values())
    assert run.report["passed"] is False


# ---------------------------------------------------------------- tampered, broken, missing files


def _flip_a_weight_bit(path: Path) -> None:
    """Flip the lowest mantissa bit of one hidden1 weight inside a float .tflite: a different
    file that computes (nearly) the same thing."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(
        model_path=str(path),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interpreter.allocate_tensors()
    detail = next(t for t in interpreter.get_tensor_details() if list(t["shape"]) == [300, 784])
    weights = interpreter.get_tensor(detail["index"])
    blob = bytearray(path.read_bytes())
    offset = blob.find(weights.tobytes())
    assert offset > 0
    blob[offset] ^= 0x01  # little-endian: byte 0 holds the lowest mantissa bits
    path.write_bytes(bytes(blob))


def test_check_reports_a_sha256_mismatch(artifacts: Path, mnist_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    folder = _copy(artifacts, tmp_path)
    _flip_a_weight_bit(folder / "model_float32.tflite")
    run = _check(folder, mnist_dir, tmp_path / "reports")
    assert run.result.exit_code == 1, run.result.output
    assert "the accuracy gate failed" in _error_line(run.result)
    assert "model_float32.tflite: sha256 mismatch" in run.result.stderr
    assert "MISMATCH" in run.result.stdout
    entry = run.entry("model_float32.tflite")
    assert entry["sha256_ok"] is False and entry["passed"] is False
    # The accuracy is still fine: the sha256 alone fails it.
    assert entry["drop_pp"] <= MAX_DROP
    assert len(entry["reasons"]) == 1 and "sha256" in entry["reasons"][0]
    assert [a["name"] for a in run.report["artifacts"] if not a["passed"]] == [
        "model_float32.tflite"
    ]


def test_check_reports_a_truncated_artifact(
    artifacts: Path, mnist_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("tensorflow")
    folder = _copy(artifacts, tmp_path)
    path = folder / "model_int8.onnx"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    run = _check(folder, mnist_dir, tmp_path / "reports")
    assert run.result.exit_code == 1, run.result.output
    entry = run.entry("model_int8.onnx")
    assert entry["accuracy"] is None and entry["passed"] is False and entry["sha256_ok"] is False
    assert any("cannot run it" in r for r in entry["reasons"])
    assert "model_int8.onnx: sha256 mismatch" in run.result.stderr


def test_check_reports_a_missing_artifact(artifacts: Path, mnist_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    folder = _copy(artifacts, tmp_path)
    (folder / "model_float32.onnx").unlink()
    run = _check(folder, mnist_dir, tmp_path / "reports")
    assert run.result.exit_code == 1, run.result.output
    assert "model_float32.onnx is missing" in run.result.stderr
    assert run.entry("model_float32.onnx")["passed"] is False
    assert run.junit.get("failures") == "1"


# ---------------------------------------------------------------- --baseline


def _baseline(good: Run, path: Path, raise_pp: dict[str, float]) -> Path:
    report = good.report
    for a in report["artifacts"]:
        a["accuracy"] += raise_pp.get(a["name"], 0.0) / 100
    path.write_text(json.dumps(report))
    return path


def test_check_baseline_above_reality_fails(
    good: Run, artifacts: Path, mnist_dir: Path, tmp_path: Path
) -> None:
    baseline = _baseline(good, tmp_path / "baseline.json", {"model_int8.onnx": 1.0})
    run = _check(artifacts, mnist_dir, tmp_path / "reports", "--baseline", str(baseline))
    assert run.result.exit_code == 1, run.result.output
    assert "the accuracy gate failed" in _error_line(run.result)
    assert "model_int8.onnx: accuracy" in run.result.stderr
    assert "below the baseline" in run.result.stderr and "minus 0.1 points" in run.result.stderr
    assert [a["name"] for a in run.report["artifacts"] if not a["passed"]] == ["model_int8.onnx"]


@pytest.mark.parametrize(
    ("raise_pp", "tolerance"),
    [({}, "0.1"), ({"model_int8.onnx": 1.0}, "1.5")],
    ids=["equal-baseline", "within-tolerance"],
)
def test_check_baseline_within_tolerance_passes(
    good: Run,
    artifacts: Path,
    mnist_dir: Path,
    tmp_path: Path,
    raise_pp: dict[str, float],
    tolerance: str,
) -> None:
    baseline = _baseline(good, tmp_path / "baseline.json", raise_pp)
    run = _check(
        artifacts,
        mnist_dir,
        tmp_path / "reports",
        "--baseline",
        str(baseline),
        "--tolerance",
        tolerance,
    )
    assert run.result.exit_code == 0, run.result.output
    assert run.report["passed"] is True


# ---------------------------------------------------------------- usage errors: exit 2


def _no_manifest(artifacts: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    return tmp_path, []


def _garbled_manifest(artifacts: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    (tmp_path / MANIFEST_FILE).write_text("{ not json")
    return tmp_path, []


def _empty_manifest(artifacts: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({"schema_version": 1, "artifacts": {}}))
    return tmp_path, []


def _negative_drop(artifacts: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    return artifacts, ["--max-drop", "-1"]


def _unreadable_baseline(artifacts: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    (tmp_path / "baseline.json").write_text("[1, 2")
    return artifacts, ["--baseline", str(tmp_path / "baseline.json")]


def _report_into_a_folder(artifacts: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    (tmp_path / "somedir").mkdir()
    return artifacts, ["--json", str(tmp_path / "somedir")]


def _deep_manifest(artifacts: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    (tmp_path / MANIFEST_FILE).write_text("[" * 100_000 + "]" * 100_000)
    return tmp_path, []


def _deep_baseline(artifacts: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    (tmp_path / "baseline.json").write_text('{"artifacts":' * 50_000 + "[]" + "}" * 50_000)
    return artifacts, ["--baseline", str(tmp_path / "baseline.json")]


USAGE_ERRORS = {
    "missing-manifest": (_no_manifest, "manifest.json not found"),
    "garbled-manifest": (_garbled_manifest, "cannot read the manifest"),
    "empty-manifest": (_empty_manifest, "lists no artifacts"),
    "negative-max-drop": (_negative_drop, "--max-drop must be a finite number >= 0, got -1.0"),
    "unreadable-baseline": (_unreadable_baseline, "cannot read the baseline (not valid JSON"),
    "deep-manifest": (_deep_manifest, "cannot read the manifest (JSON nested too deeply)"),
    "deep-baseline": (_deep_baseline, "cannot read the baseline (JSON nested too deeply)"),
    "report-into-a-folder": (_report_into_a_folder, "is a folder"),
}


@pytest.mark.parametrize("case", list(USAGE_ERRORS))
def test_check_usage_errors_exit_2(
    case: str, artifacts: Path, mnist_dir: Path, tmp_path: Path
) -> None:
    make, expected = USAGE_ERRORS[case]
    folder, extra = make(artifacts, tmp_path)
    reports = tmp_path / "reports"
    run = _check(folder, mnist_dir, reports, *extra)
    assert run.result.exit_code == 2, run.result.output
    assert isinstance(run.result.exception, SystemExit)
    assert expected in _error_line(run.result)
    assert not run.json_path.exists() and not run.junit_path.exists()


def test_run_gate_raises_usage_errors(artifacts: Path, mnist_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found") as info:
        run_gate(tmp_path, data_dir=mnist_dir)
    assert info.value.exit_code == 2
    with pytest.raises(UsageError, match="--max-drop must be a finite number >= 0"):
        run_gate(artifacts, max_drop=-1, data_dir=mnist_dir)


def test_check_rejects_a_nan_max_drop(artifacts: Path, mnist_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    run = _check(artifacts, mnist_dir, tmp_path / "reports", "--max-drop", "nan")
    assert run.result.exit_code == 2, run.result.output
    assert "--max-drop must be a finite number >= 0, got nan" in _error_line(run.result)
    assert not run.json_path.exists()


# ---------------------------------------------------------------- model files the manifest lacks


def test_check_flags_model_files_the_manifest_does_not_list(
    artifacts: Path, mnist_dir: Path, tmp_path: Path
) -> None:
    """An interrupted or foreign export can leave a model nothing gated: a warning, and a
    failure with strict."""
    pytest.importorskip("tensorflow")
    folder = _copy(artifacts, tmp_path)
    shutil.copy(folder / "model_int8.onnx", folder / "model_extra.onnx")
    (folder / f".model_int8.onnx{TEMP_MARK}1-abc.onnx").write_bytes(b"hidden temp: ignored")
    (folder / "notes.txt").write_text("not a model\n")
    strict = run_gate(folder, max_drop=MAX_DROP, data_dir=mnist_dir, strict=True)
    warning = (
        "model_extra.onnx: in the folder but not in the manifest, so not gated "
        "(an interrupted or foreign export?)"
    )
    assert strict.unlisted == ["model_extra.onnx"] and strict.warnings == [warning]
    assert all(a.passed for a in strict.artifacts) and not strict.passed
    assert strict.failures() == [warning]
    with pytest.raises(CheckFailedError, match=r"model_extra\.onnx: in the folder but not"):
        strict.raise_if_failed()
    write_junit(strict, tmp_path / "junit.xml")
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert suite.get("tests") == "5" and suite.get("failures") == "1"
    assert strict.to_dict()["unlisted"] == ["model_extra.onnx"]

    lenient = dataclasses.replace(strict, strict=False)
    assert lenient.passed and lenient.failures() == [] and lenient.warnings == [warning]
    assert lenient.to_dict()["passed"] is True and lenient.to_dict()["warnings"] == [warning]
    lenient.raise_if_failed()


def test_check_cli_warns_about_unlisted_models_and_fails_with_strict(
    artifacts: Path, mnist_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("tensorflow")
    folder = _copy(artifacts, tmp_path)
    shutil.copy(folder / "model_int8.onnx", folder / "model_extra[v2].onnx")
    warning = (
        "model_extra[v2].onnx: in the folder but not in the manifest, so not gated "
        "(an interrupted or foreign export?)"
    )
    lenient = _check(folder, mnist_dir, tmp_path / "lenient")
    assert lenient.result.exit_code == 0, lenient.result.output
    assert f"warning: {warning}" in lenient.result.stderr
    assert "Gate passed" in lenient.result.stdout
    assert lenient.report["warnings"] == [warning] and lenient.report["strict"] is False

    strict = _check(folder, mnist_dir, tmp_path / "strict", "--strict")
    assert strict.result.exit_code == 1, strict.result.output
    assert "the accuracy gate failed" in _error_line(strict.result)
    assert warning in strict.result.stderr and "Gate passed" not in strict.result.stdout
    assert strict.report["passed"] is False and strict.report["strict"] is True
    assert strict.junit.get("failures") == "1"
