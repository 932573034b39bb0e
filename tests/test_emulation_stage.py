"""The emulation stage's own logic, without qemu or a chroot: its settings, the digit comparison,
pytest-output parsing, the summary JSON and the README table rendered from it.

The stage lives in .ci/emulation/stage (run by .ci/emulate as 'python3 -m stage'); the full stage
needs root and downloads Debian packages, so only its pure parts run here.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EMULATION = ROOT / ".ci" / "emulation"
if not (EMULATION / "stage").is_dir():
    # The device-like environments get a copy of tests/ without .ci/.
    pytest.skip("no .ci/emulation beside tests/", allow_module_level=True)
sys.path.insert(0, str(EMULATION))

import readme  # noqa: E402  (.ci/emulation/readme.py)
from stage import digits, names, pytest_summary, rows, settings, summary, textfmt  # noqa: E402
from stage.outcome import Outcome  # noqa: E402

MODULES = sorted(p.stem for p in (EMULATION / "stage").glob("*.py"))


@pytest.mark.parametrize("name", MODULES)
def test_every_module_imports_with_the_standard_library_only(name: str) -> None:
    module = importlib.import_module(f"stage.{name}" if name != "__init__" else "stage")
    assert module.__doc__, f"stage/{name}.py has no docstring"
    source = (EMULATION / "stage" / f"{name}.py").read_text()
    assert len(source.splitlines()) <= 300
    for line in source.splitlines():
        if line.startswith(("import ", "from ")) and not line.startswith("from ."):
            top = line.split()[1].split(".")[0]
            assert top in sys.stdlib_module_names or top == "__future__", line


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, str]:
    """A folder with the four model names and one with MNIST's test-set names (empty files:
    settings only look for them)."""
    artifacts, data = tmp_path / "artifacts", tmp_path / "mnist"
    artifacts.mkdir()
    data.mkdir()
    for name in names.MODELS:
        (artifacts / name).write_bytes(b"")
    (data / "t10k-images-idx3-ubyte.gz").write_bytes(b"")
    (data / "t10k-labels-idx1-ubyte").write_bytes(b"")
    return {"artifacts": str(artifacts), "data": str(data)}


def test_settings_from_argv_and_environment(inputs: dict[str, str], tmp_path: Path) -> None:
    env = {
        "EDGE_MNIST_DATA": inputs["data"],
        "EDGE_MNIST_CI_CACHE": str(tmp_path / "cache"),
        "EDGE_MNIST_EMULATE_TESTS": "all",
        "EDGE_MNIST_EMULATE_TEST_TIMEOUT": "60",
        "EDGE_MNIST_EMULATE_REUSE": "1",
        "EDGE_MNIST_DEBIAN_MIRROR": "http://mirror.example/debian",
    }
    s = settings.parse(["armel", "armhf", "--artifacts", inputs["artifacts"], "--jobs", "1"], env)
    assert [r.key for r in s.rows] == ["armhf", "armel"]  # table order, not argv order
    assert s.some_rows
    assert s.artifacts == Path(inputs["artifacts"])
    assert s.summary == Path(inputs["artifacts"]) / "emulation.json"
    assert (s.images, s.labels) == ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte")
    assert s.cache == tmp_path / "cache"
    assert (s.jobs, s.tests, s.test_timeout) == (1, ".", 60.0)
    assert s.reuse_rootfs
    assert s.mirror == "http://mirror.example/debian"
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.jobs = 4  # type: ignore[misc]


def test_settings_defaults(inputs: dict[str, str]) -> None:
    s = settings.parse(["--artifacts", inputs["artifacts"]], {"EDGE_MNIST_DATA": inputs["data"]})
    assert s.rows == rows.ROWS
    assert not s.some_rows
    assert s.tests == settings.SUBSET
    assert s.test_timeout == 900.0
    assert not s.reuse_rootfs
    assert s.mirror == "http://deb.debian.org/debian"
    assert s.cache == ROOT / ".ci" / "cache"
    assert s.work == ROOT / "build" / "emulation"


def test_settings_refuse_bad_input(
    inputs: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"EDGE_MNIST_DATA": inputs["data"]}
    with pytest.raises(SystemExit) as exc:
        settings.parse(["pi6", "--artifacts", inputs["artifacts"]], env)
    assert exc.value.code == 2
    assert "unknown rows ['pi6']" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        settings.parse(["--artifacts", str(tmp_path)], env)
    assert "lacks ['model_int8.tflite'" in str(exc.value.code)
    assert "edge-mnist pipeline --out" in str(exc.value.code)
    with pytest.raises(SystemExit) as exc:
        settings.parse(["--artifacts", inputs["artifacts"]], {"EDGE_MNIST_DATA": str(tmp_path)})
    assert "no t10k-images-idx3-ubyte[.gz]: set EDGE_MNIST_DATA" in str(exc.value.code)


def test_rows_pair_backends_with_their_models() -> None:
    armel = [r for r in rows.ROWS if r.key == "armel"]
    assert rows.pairs(armel) == {("numpy", "model_int8.tflite"), ("numpy", "model_float32.tflite")}
    assert rows.models_for("onnxruntime") == ["model_int8.onnx", "model_float32.onnx"]
    assert len(rows.pairs(list(rows.ROWS))) == 8  # 4 backends x 2 models each
    assert all(key in [r.key for r in rows.ROWS] for key in rows.LONGEST)


def test_predict_command_output_parses(artifacts: Path, mnist_dir: Path) -> None:
    """The command the stage runs on host and guests, on the real CLI, read by the stage."""
    data = mnist_dir
    images = settings.find_one(data, names.MNIST_IMAGES)
    labels = settings.find_one(data, names.MNIST_LABELS)
    cmd = digits.predict_cmd(
        "model_int8.tflite", "numpy", str(artifacts), str(data), images, labels
    )
    proc = subprocess.run(
        [sys.executable, "-m", "edge_mnist", *cmd[1:], "--limit", "50"],
        capture_output=True,
        text=True,
        check=True,
    )
    got = digits.parse_predict(proc.stdout)
    assert len(got.digits) == 50
    assert all(0 <= d <= 9 for d in got.digits)
    assert 0.9 <= got.accuracy <= 1.0
    assert got.backend_version.startswith("engine-")


def test_digit_agreement() -> None:
    host = digits.Prediction([1, 2, 3, 4], 0.75, "x")
    fields, failure = digits.agreement("numpy", [1, 2, 3, 4], host)
    assert fields == {"agreement": 1.0, "differ": 0, "host_accuracy": 0.75, "status": "identical"}
    assert failure == ""
    fields, failure = digits.agreement("litert", [1, 2, 3, 5], host)
    assert (fields["status"], fields["differ"], fields["agreement"]) == ("differs", 1, 0.75)
    assert failure == "1 digits differ from the host"
    fields, failure = digits.agreement("onnxruntime", [1, 2, 0, 5], host)
    assert (fields["status"], fields["differ"], failure) == ("reported", 2, "")
    with pytest.raises(ValueError):  # a guest that classified fewer images is a bug, not a result
        digits.agreement("numpy", [1, 2, 3], host)


def test_pytest_summary_of_a_real_run(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(
        textwrap.dedent(
            """
            import pytest

            @pytest.fixture
            def broken():
                raise RuntimeError("setup")

            def test_ok():
                pass

            def test_bad():
                assert 1 == 2

            def test_skipped():
                pytest.skip("no interpreter")

            def test_error(broken):
                pass
            """
        )
    )
    argv = ["-p", "no:cacheprovider", "-q", "-rfE", "--tb=short", "--durations=5"]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *argv, "test_sample.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    run = pytest_summary.parse(proc.stdout, proc.stderr)
    assert run.counts == {"failed": 1, "passed": 1, "skipped": 1, "error": 1}
    assert run.summary.startswith("1 failed, 1 passed, 1 skipped, 1 error in ")
    assert run.failed == ["test_sample.py::test_bad", "test_sample.py::test_error"]
    assert all(set(s) == {"test", "seconds"} for s in run.slowest)


def test_pytest_summary_without_a_summary_line() -> None:
    run = pytest_summary.parse("collecting ...\n", "sh: 1: exec: pytest: not found\n")
    assert run == pytest_summary.PytestRun("sh: 1: exec: pytest: not found", {}, [], [])
    recorded = "== 46 passed, 1 skipped, 3 deselected in 120.97s (0:02:00) =="
    run = pytest_summary.parse(f"....\n0.50s call     test_runtime.py::test_x\n{recorded}\n", "")
    assert run.summary == "46 passed, 1 skipped, 3 deselected in 120.97s (0:02:00)"
    assert run.counts == {"passed": 46, "skipped": 1}
    assert run.slowest == [{"test": "test_runtime.py::test_x", "seconds": 0.5}]


def test_align() -> None:
    assert textfmt.align(["a", "long head"], [["wide cell", "x"], ["b", ""]]) == [
        "a          long head",
        "---------  ---------",
        "wide cell  x",
        "b",
    ]


def outcomes() -> list[Outcome]:
    """Two rows as a run leaves them: one with results and device tests, one that failed early."""
    arm64, armel = (next(r for r in rows.ROWS if r.key == k) for k in ("bookworm-arm64", "armel"))
    ok = Outcome(arm64, suite="bookworm", python="3.11.2")
    ok.notes.append("Python 3.11.2, numpy 1.26.4, Pillow 11.0.0")
    ok.seconds.update(rootfs=60.2, wheels=4.0, install=100.0, checks=400.0, emulated=500.0)
    ok.results += [
        {
            "backend": "litert",
            "model": "model_int8.tflite",
            "accuracy": 0.9859,
            "backend_version": "2.3.0",
            "count": 10000,
            "agreement": 1.0,
            "differ": 0,
            "host_accuracy": 0.9859,
            "status": "identical",
        },
        {
            "backend": "onnxruntime",
            "model": "model_int8.onnx",
            "accuracy": 0.9858,
            "backend_version": "1.32.0",
            "count": 10000,
            "agreement": 0.9977,
            "differ": 23,
            "host_accuracy": 0.9853,
            "status": "reported",
        },
    ]
    ok.tests = {"selection": "test_runtime.py", "summary": "46 passed in 120.97s", "passed": 46}
    failed = Outcome(armel)
    failed.fail("no Debian release of the list could be bootstrapped")
    return [failed, ok]


def test_summary_table() -> None:
    lines = summary.table(sorted(outcomes(), key=lambda o: rows.by_table_order(o.row.key)))
    assert lines[0].split() == ["row", "backend", "model", "accuracy", "agreement", "with", "host", "status"]  # fmt: skip
    assert lines[2].split() == ["bookworm-arm64", "litert", "model_int8.tflite", "98.59%", "100.00%", "(0", "differ)", "identical"]  # fmt: skip
    assert lines[3].endswith("99.77% (23 differ)   reported")
    assert lines[4].split()[:5] == ["armel", "-", "-", "-", "-"]
    assert lines[4].endswith("failed: no Debian release of the list could be bootstrapped")
    assert "bookworm-arm64  ok       rootfs 60 s, wheels 4 s, install 100 s" in lines[6]


def test_summary_json_and_the_readme_table(tmp_path: Path) -> None:
    host = {
        "machine": "x86_64",
        "cpus": 2,
        "load_at_start": [1.0],
        "load_at_end": [2.0],
        "qemu": "qemu-aarch64 version 7.2.22",
        "seconds": 30.0,
    }
    out = tmp_path / "emulation.json"
    summary.write(out, summary.report(outcomes(), host, 1098.0), some_rows=False)
    written = json.loads(out.read_text())
    assert written["schema"] == 1
    assert [r["key"] for r in written["rows"]] == ["bookworm-arm64", "armel"]
    assert list(written["rows"][0]) == [
        "key", "platform", "debian", "python", "cpu", "backends", "status", "notes", "seconds",
        "results", "tests", "steps",
    ]  # fmt: skip
    assert written["rows"][1]["debian"] == "trixie/bookworm armel"  # no suite bootstrapped
    # A run of one row replaces that row and keeps the others.
    rerun = Outcome(next(r for r in rows.ROWS if r.key == "armel"), suite="bookworm")
    summary.write(out, summary.report([rerun], host, 300.0), some_rows=True)
    merged = json.loads(out.read_text())
    assert [(r["key"], r["status"]) for r in merged["rows"]] == [
        ("bookworm-arm64", "ok"),
        ("armel", "ok"),
    ]
    assert merged["total_seconds"] == 300.0

    text = readme.render(written)
    assert text.startswith(readme.START) and text.endswith(readme.END)
    assert "The stage took 18.3 minutes in all" in text
    assert "| Pi OS 64-bit, Bookworm (Pi 4) | bookworm arm64, Python 3.11.2 | `cortex-a72` | ok; device tests (test_runtime.py): 46 passed in 120.97s | 564 s |" in text  # fmt: skip
    assert "| Pi Zero / Pi 1 (ARMv6) | trixie/bookworm armel, Python ? | `arm1176` | failed: no Debian release of the list could be bootstrapped | — |" in text  # fmt: skip
    assert "| Pi OS 64-bit, Bookworm (Pi 4) | ai-edge-litert 2.3.0 | `model_int8.tflite` | 98.59% | identical (10,000) |  |" in text  # fmt: skip
    assert "| onnxruntime 1.32.0 | `model_int8.onnx` | 98.58% | 99.77% (23 of 10,000 differ) | x86-64: 98.53% |" in text  # fmt: skip


def test_each_row_keeps_its_bench_report_for_the_fleet_table(tmp_path: Path) -> None:
    """The stage copies a row's bench.json to ARTIFACTS/fleet/ROW.json (.ci/run's 'bench
    table' reads them); a row whose bench did not run leaves nothing there."""
    main = importlib.import_module("stage.__main__")
    fake = dataclasses.make_dataclass("S", [("artifacts", Path)])(tmp_path / "artifacts")
    fake.artifacts.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    main.keep_bench(out, fake, "bookworm-arm64")
    assert not (fake.artifacts / "fleet").exists()
    (out / "bench.json").write_text('{"report": 1}')
    main.keep_bench(out, fake, "bookworm-arm64")
    assert (fake.artifacts / "fleet" / "bookworm-arm64.json").read_text() == '{"report": 1}'
