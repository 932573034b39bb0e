"""Import hygiene, checked in child interpreters: what each entry point loads and what is importable.

Cold start matters on a board, and the device side must run without the host's libraries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

HEAVY = ("tensorflow", "keras", "tf2onnx", "onnx")
# What 'edge-mnist predict' may load of the project: the CLI and the runtime, nothing else
# (no training, data, export, gate, TensorFlow helpers, converters or model registry).
PREDICT_MAY_IMPORT = ("edge_mnist", "edge_mnist.cli", "edge_mnist.runtime")
# Top-level packages outside the standard library that 'edge-mnist predict' may load: numpy,
# Pillow, the interpreters, and Typer with its own dependencies. Not rich's console (some 40 ms
# of each start): predict prints plain text, and it loads only for help, warnings and errors.
PREDICT_MAY_IMPORT_TOP = frozenset(
    {
        "numpy",
        "PIL",
        "ai_edge_litert",
        "tflite_runtime",
        "onnxruntime",
        "typer",
        "click",
        # typer before 0.20 imports the rich package (not its console) to see whether it is there.
        "rich",
        "shellingham",
        "colorama",
        "annotated_doc",
        "typing_extensions",
        # numpy 1.24's Cython modules (the declared floor, .ci/floors) create cython_runtime.
        "cython_runtime",
    }
)
# Modules that would cost a start dearly for nothing: numpy.ma (np.median imports it, ~30 ms),
# rich's console (~40 ms with what it loads), and the pydantic that typer 0.29 and later builds
# every parameter with (~130 ms).
PREDICT_MUST_NOT_IMPORT = ("numpy.ma", "rich.console", "pydantic")


def _child(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


_REPORT_MODULES = f"""
import json, sys
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})
print('MODULES=' + json.dumps(heavy))
"""


def _loaded_heavy_modules(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("MODULES=")]
    assert len(lines) == 1, result.stdout
    return list(json.loads(lines[0].removeprefix("MODULES=")))


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["train", "--help"], ["export", "--help"], ["check", "--help"]],
    ids=lambda argv: " ".join(argv),
)
def test_cli_help_imports_no_heavy_framework(tmp_path: Path, argv: list[str]) -> None:
    code = f"""
import sys
sys.argv = ['edge-mnist', *{argv!r}]
from edge_mnist.cli import main
try:
    main()
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
{_REPORT_MODULES}
"""
    result = _child(code, tmp_path)
    assert "Usage" in result.stdout
    assert _loaded_heavy_modules(result) == []


def test_runtime_import_loads_no_heavy_framework(tmp_path: Path) -> None:
    code = f"""
import edge_mnist.runtime
from edge_mnist.runtime import Classifier, read_idx
{_REPORT_MODULES}
"""
    assert _loaded_heavy_modules(_child(code, tmp_path)) == []


def test_the_module_check_sees_a_heavy_import(tmp_path: Path) -> None:
    """The two tests above would be blind if the check could not see a framework being loaded
    (onnx stands in for TensorFlow here: same check, a fraction of the import time)."""
    pytest.importorskip("onnx")
    code = f"""
import edge_mnist.runtime
import onnx
{_REPORT_MODULES}
"""
    assert "onnx" in _loaded_heavy_modules(_child(code, tmp_path))


def test_only_the_edge_mnist_namespace_is_importable(tmp_path: Path) -> None:
    code = """
import importlib.util, json
names = ['runtime', 'converters', 'models', 'edge_mnist.runtime', 'edge_mnist.converters',
         'edge_mnist.models']
found = {}
for name in names:
    spec = importlib.util.find_spec(name)
    found[name] = None if spec is None else spec.origin
print('SPECS=' + json.dumps(found))
"""
    result = _child(code, tmp_path)
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("SPECS="))
    specs = json.loads(line.removeprefix("SPECS="))
    for name in ("runtime", "converters", "models"):
        assert specs[name] is None, f"{name!r} is importable at top level: {specs[name]}"
    for name, folder in (
        ("edge_mnist.runtime", "runtime"),
        ("edge_mnist.converters", "converters"),
        ("edge_mnist.models", "models"),
    ):
        assert specs[name] is not None, name
        assert Path(specs[name]).parts[-2:] == (folder, "__init__.py"), specs[name]


_REPORT_ALL_MODULES = """
import json, sys
print('MODULES=' + json.dumps(sorted(sys.modules)))
"""


@pytest.mark.device
def test_predict_imports_only_the_runtime_and_the_cli(artifacts: Path, tmp_path: Path) -> None:
    digit = np.zeros((28, 28), dtype=np.uint8)
    digit[4:24, 13:16] = 255  # a "1"
    image = tmp_path / "one.png"
    Image.fromarray(digit).save(image)
    code = f"""
import sys
sys.argv = ['edge-mnist', 'predict', {str(artifacts / "model_int8.tflite")!r}, {str(image)!r}]
from edge_mnist.cli import main
try:
    main()
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
{_REPORT_ALL_MODULES}
"""
    result = _child(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "one.png" in result.stdout
    line = next(x for x in result.stdout.splitlines() if x.startswith("MODULES="))
    modules = json.loads(line.removeprefix("MODULES="))
    ours = [m for m in modules if m.split(".")[0] == "edge_mnist"]
    assert "edge_mnist.runtime.classifier" in ours  # the check sees the project's modules
    outside = [
        m
        for m in ours
        if m not in PREDICT_MAY_IMPORT and ".".join(m.split(".")[:2]) not in PREDICT_MAY_IMPORT
    ]
    assert outside == [], f"'edge-mnist predict' imported host modules: {outside}"
    third_party = {
        m.split(".")[0]
        for m in modules
        if m.split(".")[0] not in sys.stdlib_module_names
        and not m.startswith(("_", "edge_mnist"))
        and m != "sitecustomize"
    }
    assert "numpy" in third_party
    assert sorted(third_party - PREDICT_MAY_IMPORT_TOP) == []
    # numpy 1 imports numpy.ma itself (numpy 2 loads it lazily), so it says nothing there.
    must_not = [m for m in PREDICT_MUST_NOT_IMPORT if m != "numpy.ma" or np.__version__ >= "2"]
    assert [m for m in must_not if m in modules] == []
