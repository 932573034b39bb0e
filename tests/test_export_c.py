"""C export: the generated C99 compiles cleanly and matches the int8 TFLite model byte for byte
on all 10,000 MNIST test images: built for the host, and for Cortex-M4 (the DSP kernel) and
Cortex-M0+ (the portable kernel) run under QEMU's user-mode emulator; and, on a synthetic
model, the kernels' shapes the registry's models never have."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from edge_mnist.converters.c import STEM, export_c, load_plan
from edge_mnist.converters.c.plan import Plan, dense
from edge_mnist.converters.c.render import Card, header, source
from edge_mnist.runtime.engine import Engine
from edge_mnist.runtime.errors import ModelLoadError

HERE = Path(__file__).parent / "c"
KERNELS = Path(__file__).parents[1] / "converters" / "c" / "kernels.c"
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2"]


def _cc() -> str:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no host C compiler (cc)")
    return cc


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result


def _code(path: Path) -> str:
    """C source without comments."""
    return re.sub(r"/\*.*?\*/", " ", path.read_text(), flags=re.S)


@pytest.fixture(scope="module")
def generated(artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("c")
    paths = export_c(artifacts / "model_int8.tflite", out)
    assert [p.name for p in paths] == [f"{STEM}.h", f"{STEM}.c"]
    return out


@pytest.fixture(scope="module")
def raw_images(generated: Path, test_images: tuple[np.ndarray, np.ndarray]) -> Path:
    """The 10,000 test images as 784 uint8 pixels each, back to back."""
    raw = generated / "images.u8"
    raw.write_bytes(np.ascontiguousarray(test_images[0], dtype=np.uint8).tobytes())
    return raw


@pytest.fixture(scope="module")
def c_outputs(
    generated: Path, raw_images: Path, test_images: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Digits (N,) and int8 scores (N, 10) of the compiled C on all test images."""
    images, _labels = test_images
    raw = raw_images
    exe = generated / "driver"
    _run(_cc(), *STRICT, "-I", generated, HERE / "driver.c", generated / f"{STEM}.c", "-o", exe)
    _run(exe, raw, generated / "out.bin")
    return _records(generated / "out.bin", len(images))


def _records(path: Path, n: int) -> tuple[np.ndarray, np.ndarray]:
    records = np.fromfile(path, dtype=np.uint8).reshape(-1, 11)
    assert len(records) == n
    return records[:, 0].astype(np.int64), records[:, 1:].view(np.int8)


@pytest.fixture(scope="module")
def litert_scores(artifacts: Path, test_images: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    pytest.importorskip("ai_edge_litert")
    from edge_mnist.runtime import Classifier

    clf = Classifier.load(artifacts / "model_int8.tflite", backend="litert")
    return np.asarray(clf.backend.run(clf.prepare(test_images[0])))


def _assert_identical(c_outputs: tuple[np.ndarray, np.ndarray], reference: np.ndarray) -> None:
    digits, scores = c_outputs
    assert scores.shape == reference.shape == (10_000, 10)
    assert reference.dtype == np.int8
    differ = int(np.sum(np.any(scores != reference, axis=1)))
    assert differ == 0, f"scores differ on {differ} of 10,000 images"
    assert np.array_equal(digits, reference.argmax(axis=1))


def test_scores_identical_to_litert_on_all_test_images(
    artifacts: Path,
    c_outputs: tuple[np.ndarray, np.ndarray],
    litert_scores: np.ndarray,
    test_images: tuple[np.ndarray, np.ndarray],
) -> None:
    _images, labels = test_images
    _assert_identical(c_outputs, litert_scores)
    # So the C model scores exactly the accuracy the manifest recorded for the .tflite.
    manifest = json.loads((artifacts / "manifest.json").read_text())
    recorded = manifest["artifacts"]["model_int8.tflite"]["test_accuracy"]
    assert float(np.mean(c_outputs[0] == labels)) == pytest.approx(recorded, abs=1e-6)


def test_scores_identical_to_numpy_engine_on_all_test_images(
    artifacts: Path,
    c_outputs: tuple[np.ndarray, np.ndarray],
    test_images: tuple[np.ndarray, np.ndarray],
) -> None:
    from edge_mnist.runtime.engine import Engine

    images, _labels = test_images
    engine = Engine.load(artifacts / "model_int8.tflite")
    # The model's int8 input is pixel - 128.
    _assert_identical(c_outputs, engine.run((images ^ np.uint8(0x80)).view(np.int8)))


def test_header_states_api_quantization_and_provenance(artifacts: Path, generated: Path) -> None:
    import hashlib

    head = (generated / f"{STEM}.h").read_text()
    sha = hashlib.sha256((artifacts / "model_int8.tflite").read_bytes()).hexdigest()
    entry = json.loads((artifacts / "manifest.json").read_text())["artifacts"]["model_int8.tflite"]
    assert "int edge_mnist_predict(const uint8_t pixels[784], int8_t scores[10]);" in head
    assert f'#define EDGE_MNIST_SHA256 "{sha}"' in head
    assert f'#define EDGE_MNIST_TEST_ACCURACY "{entry["test_accuracy"] * 100:.2f}%"' in head
    assert "#define EDGE_MNIST_INPUT_ZERO_POINT (-128)" in head
    assert "#define EDGE_MNIST_OUTPUT_ZERO_POINT (-128)" in head
    assert "#define EDGE_MNIST_OUTPUT_SCALE 0.00390625f" in head
    assert "#define EDGE_MNIST_SCRATCH_BYTES 600" in head  # two 300-wide hidden layers


def test_source_is_integer_only_c99_without_allocation(generated: Path) -> None:
    code = _code(generated / f"{STEM}.c")
    includes = re.findall(r"#include\s*[<\"]([^>\"]+)", code)
    # arm_acle.h (the compiler's own, for SMLAD) only where the core has the DSP extension.
    assert includes == [f"{STEM}.h", "stddef.h", "stdint.h", "arm_acle.h"]
    assert re.search(r"#if defined\(__ARM_FEATURE_DSP\)[^\n]*\n#include <arm_acle.h>", code)
    for word in ("float", "double", "malloc", "calloc", "realloc", "free", "alloca"):
        assert not re.search(rf"\b{word}\b", code), word
    # Everything the model holds is const (flash); the only writable data is the scratch.
    writable = re.findall(r"^static (?!const)[^(]*?(\w+)\[(\d+)\];", code, flags=re.M)
    assert [name for name, _ in writable] == ["s_a", "s_b"]
    assert sum(int(n) for _, n in writable) == 600


def test_compiles_pedantic_without_library_calls(generated: Path) -> None:
    obj = generated / "pedantic.o"
    _run(_cc(), *STRICT, "-pedantic", "-I", generated, "-c", generated / f"{STEM}.c", "-o", obj)
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("no nm to list the object's symbols")
    undefined = _run(nm, "-u", obj).stdout.split()
    assert undefined == [], f"the generated code calls {undefined}"


def test_kernels_emulate_binary32_rounding_exactly(tmp_path: Path) -> None:
    """The integer emulation agrees with the host's IEEE float on 11 million operations, a
    million of them requantizations next to a rounding tie."""
    exe = tmp_path / "emulation"
    _run(_cc(), "-std=c99", "-O2", f'-DKERNELS="{KERNELS}"', HERE / "emulation.c", "-lm", "-o", exe)
    assert _run(exe).stdout.strip() == "11000000 cases, 0 failures"


@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m0plus"])
def test_cross_compiles_for_cortex_m_without_float_routines(generated: Path, cpu: str) -> None:
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        pytest.skip("arm-none-eabi-gcc is not installed (Debian: gcc-arm-none-eabi)")
    obj = generated / f"{cpu}.o"
    src = generated / f"{STEM}.c"
    # Freestanding: gcc's own <stdint.h>, so newlib need not be installed.
    flags = [f"-mcpu={cpu}", "-mthumb", "-Os", "-ffreestanding", "-pedantic", *STRICT[:4]]
    _run(gcc, *flags, "-c", src, "-o", obj)
    undefined = set(_run("arm-none-eabi-nm", "-u", obj).stdout.split()) - {"U"}
    # Only the compiler's 64-bit integer helpers (multiply, shifts, divide); no float routines.
    assert undefined, "expected at least the 64-bit division helper"
    assert all(re.fullmatch(r"__aeabi_u?l\w+", name) for name in undefined), undefined


def _qemu_outputs(
    folder: Path, cpu: str, raw: Path, n: int, portable: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Build folder's model_int8.c for cpu at -O2 with the freestanding driver and run it on
    the raw images under qemu-arm; portable forces the portable kernel."""
    gcc, qemu = shutil.which("arm-none-eabi-gcc"), shutil.which("qemu-arm")
    if gcc is None or qemu is None:
        pytest.skip("needs arm-none-eabi-gcc and qemu-arm (Debian: gcc-arm-none-eabi qemu-user)")
    elf = folder / f"qemu-{cpu}{'-portable' if portable else ''}.elf"
    flags = [f"-mcpu={cpu}", "-mthumb", "-pedantic", *STRICT, "-ffreestanding", "-nostdlib"]
    flags += ["-static", "-Wl,-Ttext=0x10000", "-I", str(folder)]
    flags += ["-DEDGE_MNIST_PORTABLE"] if portable else []
    sources = [HERE / "qemu_start.S", HERE / "qemu_driver.c", folder / f"{STEM}.c"]
    _run(gcc, *flags, *sources, "-lgcc", "-o", elf)
    # The kernel the build took: the DSP one has SMLAD, the portable one does not.
    dsp = "smlad" in _run("arm-none-eabi-objdump", "-d", elf).stdout
    assert dsp == (cpu == "cortex-m4" and not portable)
    out = elf.with_suffix(".bin")
    with raw.open("rb") as stdin, out.open("wb") as stdout:
        subprocess.run([qemu, str(elf)], stdin=stdin, stdout=stdout, check=True)
    return _records(out, n)


@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m0plus"])
def test_cortex_m_build_identical_to_litert_under_qemu(
    generated: Path, raw_images: Path, litert_scores: np.ndarray, cpu: str
) -> None:
    """The -O2 Cortex-M4 build (SMLAD kernel) and Cortex-M0+ build (portable kernel), run
    under qemu-arm on all 10,000 test images, give the interpreter's bytes (~20 s each)."""
    outputs = _qemu_outputs(generated, cpu, raw_images, len(litert_scores))
    _assert_identical(outputs, litert_scores)


def test_refuses_a_float_model(artifacts: Path, tmp_path: Path) -> None:
    with pytest.raises(
        ModelLoadError,
        match="not int8 FULLY_CONNECTED then SOFTMAX; the C export needs the int8 model",
    ):
        export_c(artifacts / "model_float32.tflite", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_accuracy_only_from_a_manifest_entry_for_this_file(artifacts: Path, tmp_path: Path) -> None:
    model = tmp_path / "model_int8.tflite"
    shutil.copy(artifacts / "model_int8.tflite", model)
    (tmp_path / "manifest.json").write_text(
        json.dumps({"artifacts": {"model_int8.tflite": {"sha256": "0" * 64, "test_accuracy": 0.5}}})
    )
    export_c(model, tmp_path / "out")
    head = (tmp_path / "out" / f"{STEM}.h").read_text()
    assert "from the manifest): not recorded" in head
    assert "EDGE_MNIST_TEST_ACCURACY" not in head


@pytest.mark.slow
def test_cli_export_format_c_writes_the_tflite_and_the_c(
    artifacts: Path, mnist_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("tensorflow")
    from typer.testing import CliRunner

    from edge_mnist.cli import app

    shutil.copy(artifacts / "model.keras", tmp_path / "model.keras")
    out = tmp_path / "out"
    args = ["export", "--model", str(tmp_path / "model.keras"), "--out", str(out)]
    args += ["--data-dir", str(mnist_dir), "--format", "c"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "model_int8.c",
        "model_int8.h",
        "model_int8.tflite",
    ]
    assert f"{out / 'model_int8.c'}" in result.stdout.replace("\n", "")
    # The C is not a manifest artifact (the gate runs every artifact), but it names the model.
    manifest = json.loads((out / "manifest.json").read_text())
    assert list(manifest["artifacts"]) == ["model_int8.tflite"]
    sha = manifest["artifacts"]["model_int8.tflite"]["sha256"]
    assert f'#define EDGE_MNIST_SHA256 "{sha}"' in (out / "model_int8.h").read_text()


def test_cli_export_format_c_refuses_float(artifacts: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from edge_mnist.cli import app

    args = ["export", "--model", str(artifacts / "model.keras"), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(app, [*args, "--format", "c", "--quantize", "none"])
    assert result.exit_code == 2
    assert "--format c is generated from the int8 model" in result.stderr
    assert not (tmp_path / "o").exists()


def test_refuses_a_truncated_model_and_writes_nothing(artifacts: Path, tmp_path: Path) -> None:
    broken = tmp_path / "model_int8.tflite"
    broken.write_bytes((artifacts / "model_int8.tflite").read_bytes()[:5000])
    with pytest.raises(ModelLoadError, match="corrupt or not a TFLite model"):
        export_c(broken, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---- kernel shapes the registry's models never have ------------------------------------
# Inputs not a multiple of four, rows left over after the blocks of four, a non-zero input
# offset folded into the bias, per-tensor and per-channel multipliers: on the host, the
# Cortex-M4 and the Cortex-M0+ builds, against the interpreter's arithmetic in NumPy.

ODD_IMAGES = 1000
# (n_out, output zero point, ReLU, per-channel multiplier) per layer; 784 -> 13 -> 7 -> 10.
SHAPES = [(13, 5, True, True), (7, -20, False, False), (10, 3, False, True)]


def _reference(plan: Plan, images: np.ndarray, softmax: object) -> np.ndarray:
    """The interpreter's arithmetic: exact int accumulators, binary32 rescale, ties to even."""
    x = images.astype(np.int64) - 128
    for layer in plan.layers:
        acc = (x - layer.input_zero) @ layer.weights.astype(np.int64).T + layer.bias
        scaled = acc.astype(np.float32) * layer.multiplier
        q = np.rint(scaled).astype(np.int64) + layer.zero_point
        x = np.clip(q, layer.lo, layer.hi)
    return softmax(x.astype(np.int8))  # type: ignore[operator]


@pytest.fixture(scope="module")
def odd_model(
    artifacts: Path,
    test_images: tuple[np.ndarray, np.ndarray],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, np.ndarray]:
    real = artifacts / "model_int8.tflite"
    images = test_images[0][:ODD_IMAGES]
    rng = np.random.default_rng(7)
    layers, n_in, in_zero, x = [], 784, -128, images.astype(np.int64) - 128
    for n_out, zero, relu, per_channel in SHAPES:
        w = rng.integers(-128, 128, size=(n_out, n_in)).astype(np.int8)
        b = rng.integers(-3000, 3000, size=n_out).astype(np.int32)
        acc = (x - in_zero) @ w.astype(np.int64).T + b
        # Spread each channel's outputs over about 200 steps.
        spread = np.maximum(np.abs(acc).max(axis=0), 1).astype(np.float64)
        mult = (
            (100.0 / spread).astype(np.float32) if per_channel else np.float32([100 / spread.max()])
        )
        lo = zero if relu else -128
        layer = dense(w, b, in_zero, mult, zero, lo, 127)
        layers.append(layer)
        q = np.rint(acc.astype(np.float32) * layer.multiplier).astype(np.int64) + zero
        x, n_in, in_zero = np.clip(q, lo, 127), n_out, zero
    base = load_plan(real)
    plan = Plan(tuple(layers), base.softmax, base.input_scale, base.input_zero)
    folder = tmp_path_factory.mktemp("c-shapes")
    card = Card("synthetic", "0" * 64, None)
    (folder / f"{STEM}.h").write_text(header(plan, card, STEM))
    (folder / f"{STEM}.c").write_text(source(plan, card, STEM))
    raw = folder / "images.u8"
    raw.write_bytes(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
    expected = _reference(plan, images, Engine.load(real).steps[-1])
    # The synthetic model must not be degenerate: many distinct scores and digits.
    assert len(np.unique(expected)) > 50 and len(np.unique(expected.argmax(axis=1))) > 5
    return folder, raw, expected


@pytest.mark.parametrize("target", ["host", "cortex-m4", "cortex-m4-portable", "cortex-m0plus"])
def test_odd_shapes_identical_to_reference(
    odd_model: tuple[Path, Path, np.ndarray], target: str
) -> None:
    folder, raw, expected = odd_model
    if target == "host":
        exe = folder / "driver"
        _run(
            _cc(),
            *STRICT,
            "-pedantic",
            "-I",
            folder,
            HERE / "driver.c",
            folder / f"{STEM}.c",
            "-o",
            exe,
        )
        _run(exe, raw, folder / "out.bin")
        digits, scores = _records(folder / "out.bin", ODD_IMAGES)
    else:
        cpu = target.removesuffix("-portable")
        digits, scores = _qemu_outputs(folder, cpu, raw, ODD_IMAGES, portable=cpu != target)
    differ = int(np.sum(np.any(scores != expected, axis=1)))
    assert differ == 0, f"scores differ on {differ} of {ODD_IMAGES} images"
    assert np.array_equal(digits, expected.argmax(axis=1))
