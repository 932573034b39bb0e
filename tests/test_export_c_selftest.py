"""edge_mnist_selftest: 0 on the host build and on Cortex-M builds under QEMU for every rounding,
-1 when a weight in the generated .c was changed, the index + 1 of the first golden vector a
build with another rounding's arithmetic gets wrong; -DEDGE_MNIST_NO_SELFTEST compiles it and
its vectors out; export refuses a .tflite whose weights no longer give the vectors it carries;
--rounding is refused without the C export."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from c_build import HERE, STRICT, arm_tools, cc, qemu_build, run
from typer.testing import CliRunner

from edge_mnist.converters.c import ROUNDINGS, STEM, export_c
from edge_mnist.runtime.engine import Engine
from edge_mnist.runtime.errors import ModelLoadError
from edge_mnist.runtime.golden import read_golden

VECTOR_BYTES = 784 + 10


@pytest.fixture(scope="module")
def golden_model(
    artifacts: Path,
    test_images: tuple[np.ndarray, np.ndarray],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """The int8 model with golden vectors in its metadata, as export writes it."""
    pytest.importorskip("tensorflow")  # the metadata is written with TFLite's schema objects
    from edge_mnist.converters.golden import embed_golden

    model = tmp_path_factory.mktemp("golden") / "model_int8.tflite"
    shutil.copy(artifacts / "model_int8.tflite", model)
    if read_golden(model) is None:
        embed_golden(model, test_images[0])
    return model


@pytest.fixture(scope="module")
def exported(golden_model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folders = {}
    for rounding in ROUNDINGS:
        folders[rounding] = tmp_path_factory.mktemp(f"selftest-{rounding}")
        export_c(golden_model, folders[rounding], rounding=rounding)
    return folders


def _host_selftest(folder: Path, source: Path | None = None) -> int:
    """edge_mnist_selftest()'s value from a host build (the driver prints it)."""
    exe = folder / "selftest"
    src = source or folder / f"{STEM}.c"
    run(cc(), *STRICT, "-pedantic", "-I", folder, HERE / "selftest.c", src, "-o", exe)
    result = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
    return int(result.stdout)


@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_selftest_passes_on_the_host(
    golden_model: Path, exported: dict[str, Path], rounding: str
) -> None:
    carried = read_golden(golden_model)
    assert carried is not None
    text = (exported[rounding] / f"{STEM}.c").read_text()
    # The file's vectors with this rounding's bytes.
    assert f"static const uint8_t k_golden_in[{carried.count * 784}]" in text
    assert (
        "#define EDGE_MNIST_SELFTEST_CORRUPT (-1)" in (exported[rounding] / f"{STEM}.h").read_text()
    )
    assert _host_selftest(exported[rounding]) == 0


@pytest.mark.parametrize(
    ("rounding", "cpu"),
    [
        ("litert", "cortex-m4"),
        ("reference", "cortex-m4"),
        ("tflm", "cortex-m4"),
        ("tflm", "cortex-m0plus"),
    ],
)
def test_selftest_passes_on_cortex_m_under_qemu(
    exported: dict[str, Path], rounding: str, cpu: str
) -> None:
    elf = qemu_build(exported[rounding], cpu, "qemu_selftest.c", f"selftest-{cpu}")
    status = subprocess.run([arm_tools()[1], str(elf)], check=False).returncode
    assert status == 0


def _with_array(text: str, name: str, change: object) -> str:
    """text with the body of the const array ``name`` passed through change(list of str)."""
    match = re.search(rf"(static const \w+ {name}\[\d+\] = {{\n)(.*?)(\n}};)", text, flags=re.S)
    assert match is not None, name
    values = re.findall(r"-?\w+", match.group(2))
    body = ", ".join(change(values))  # type: ignore[operator]
    return text[: match.start(2)] + "    " + body + "," + text[match.end(2) :]


@pytest.mark.parametrize("array", ["k_w0", "k_w2", "k_b1", "k_exp"])
def test_a_changed_constant_returns_corrupt(
    exported: dict[str, Path], tmp_path: Path, array: str
) -> None:
    """One byte of one weight (even one no golden vector would notice: the first pixel's,
    background in every MNIST digit), a bias or the softmax table."""
    folder = exported["tflm"]

    def flip(values: list[str]) -> list[str]:
        first = values[0]
        number = int(first.rstrip("u"), 0) ^ 0x80
        return [f"{number}{'u' if first.endswith('u') else ''}", *values[1:]]

    damaged = tmp_path / f"{STEM}.c"
    damaged.write_text(_with_array((folder / f"{STEM}.c").read_text(), array, flip))
    shutil.copy(folder / f"{STEM}.h", tmp_path)
    assert _host_selftest(tmp_path, damaged) == -1


def test_other_arithmetic_fails_the_first_vector_it_gets_wrong(
    golden_model: Path, exported: dict[str, Path], tmp_path: Path
) -> None:
    """The litert kernels checked against the tflm bytes: the vectors where the two roundings
    part ways (export picks some) catch a build that computes the other interpreter's bytes."""
    carried = read_golden(golden_model)
    assert carried is not None
    differ = np.flatnonzero(np.any(carried.expected["litert"] != carried.expected["tflm"], axis=1))
    assert len(differ), "the golden vectors do not tell litert and tflm apart"
    tflm_out = re.findall(r"-?\d+", _array_body((exported["tflm"] / f"{STEM}.c").read_text()))
    mixed = _with_array(
        (exported["litert"] / f"{STEM}.c").read_text(), "k_golden_out", lambda _v: tflm_out
    )
    (tmp_path / f"{STEM}.c").write_text(mixed)
    shutil.copy(exported["litert"] / f"{STEM}.h", tmp_path)
    assert _host_selftest(tmp_path) == int(differ[0]) + 1


def _array_body(text: str) -> str:
    match = re.search(r"static const int8_t k_golden_out\[\d+\] = {\n(.*?)\n};", text, flags=re.S)
    assert match is not None
    return match.group(1)


def _sections(obj: Path) -> dict[str, int]:
    lines = run("arm-none-eabi-size", "-A", obj).stdout.splitlines()
    return {
        p[0]: int(p[1]) for p in (line.split() for line in lines) if len(p) >= 2 and p[1].isdigit()
    }


def test_the_macro_compiles_the_selftest_out(exported: dict[str, Path], tmp_path: Path) -> None:
    """Flash cost on Cortex-M4 at -Os: the vectors in .rodata, the function in .text."""
    gcc, _qemu = arm_tools()
    folder = exported["tflm"]
    flags = ["-mcpu=cortex-m4", "-mthumb", "-Os", "-ffreestanding", *STRICT[:4]]
    sizes = {}
    for name, extra in (("with", []), ("without", ["-DEDGE_MNIST_NO_SELFTEST"])):
        obj = tmp_path / f"{name}.o"
        run(gcc, *flags, *extra, "-I", folder, "-c", folder / f"{STEM}.c", "-o", obj)
        sizes[name] = _sections(obj)
        symbols = run("arm-none-eabi-nm", obj).stdout
        assert ("edge_mnist_selftest" in symbols) == (name == "with")
    vectors = len(re.findall(r"-?\d+", _array_body((folder / f"{STEM}.c").read_text()))) // 10
    rodata = sizes["with"][".rodata"] - sizes["without"][".rodata"]
    text = sizes["with"][".text"] - sizes["without"][".text"]
    assert rodata == vectors * VECTOR_BYTES
    assert 0 < text < 400, text


def test_export_refuses_weights_that_no_longer_give_the_carried_vectors(
    golden_model: Path, tmp_path: Path
) -> None:
    data = bytearray(golden_model.read_bytes())
    engine = Engine.load(golden_model)
    op = engine.model.operators[engine.steps[1].index]
    weights = engine.model.tensors[op.inputs[1]].data
    assert weights is not None
    at = bytes(data).find(weights.tobytes())
    assert at > 0
    for i in range(at, at + 4000):  # 4,000 weights of the second layer, each moved by 128
        data[i] ^= 0x80
    changed = tmp_path / "model_int8.tflite"
    changed.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="do not give the golden vectors it carries"):
        export_c(changed, tmp_path / "out", rounding="tflm")
    assert not (tmp_path / "out").exists()


def test_golden_inputs_given_by_the_caller(
    golden_model: Path, tmp_path: Path, test_images: tuple[np.ndarray, np.ndarray]
) -> None:
    export_c(golden_model, tmp_path, rounding="reference", golden_inputs=test_images[0][:3])
    assert "static const uint8_t k_golden_in[2352]" in (tmp_path / f"{STEM}.c").read_text()
    assert _host_selftest(tmp_path) == 0


def test_cli_refuses_rounding_without_the_c_export(tmp_path: Path) -> None:
    from edge_mnist.cli import app

    args = ["export", "--model", str(tmp_path / "model.keras"), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(app, [*args, "--rounding", "tflm"])
    assert result.exit_code == 2
    assert "--rounding chooses the C export's arithmetic" in result.stderr
    result = CliRunner().invoke(app, [*args, "--format", "c", "--rounding", "exact"])
    assert result.exit_code == 2
    assert "unknown rounding 'exact'" in result.stderr
    assert not (tmp_path / "o").exists()
