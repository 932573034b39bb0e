"""C export, default rounding (litert): the generated C99 compiles cleanly and matches the int8
TFLite model byte for byte on all 10,000 MNIST test images: built for the host, and for
Cortex-M4 (the DSP kernel) and Cortex-M0+ (the portable kernel) run under QEMU's user-mode
emulator. The other roundings: test_export_c_rounding.py; the self-test:
test_export_c_selftest.py."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from c_build import HERE, STRICT, cc, code, qemu_outputs, records, run

from edge_mnist.converters.c import ROUNDINGS, STEM, export_c
from edge_mnist.converters.c.variants import kernel_source
from edge_mnist.runtime.errors import ModelLoadError


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
    run(cc(), *STRICT, "-I", generated, HERE / "driver.c", generated / f"{STEM}.c", "-o", exe)
    run(exe, raw, generated / "out.bin")
    return records(generated / "out.bin", len(images))


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
    assert '#define EDGE_MNIST_ROUNDING "litert"' in head
    assert "int edge_mnist_selftest(void);" in head


@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_source_is_integer_only_c99_without_allocation(
    artifacts: Path, tmp_path: Path, rounding: str
) -> None:
    export_c(artifacts / "model_int8.tflite", tmp_path, rounding=rounding)
    text = code(tmp_path / f"{STEM}.c")
    includes = re.findall(r"#include\s*[<\"]([^>\"]+)", text)
    # arm_acle.h (the compiler's own, for SMLAD) only where the core has the DSP extension.
    assert includes == [f"{STEM}.h", "stddef.h", "stdint.h", "arm_acle.h"]
    assert re.search(r"#if defined\(__ARM_FEATURE_DSP\)[^\n]*\n#include <arm_acle.h>", text)
    for word in ("float", "double", "malloc", "calloc", "realloc", "free", "alloca"):
        assert not re.search(rf"\b{word}\b", text), word
    # Everything the model holds is const (flash); the only writable data is the scratch.
    writable = re.findall(r"^static (?!const)[^(]*?(\w+)\[(\d+)\];", text, flags=re.M)
    assert [name for name, _ in writable] == ["s_a", "s_b"]
    assert sum(int(n) for _, n in writable) == 600


def test_compiles_pedantic_without_library_calls(generated: Path) -> None:
    obj = generated / "pedantic.o"
    run(cc(), *STRICT, "-pedantic", "-I", generated, "-c", generated / f"{STEM}.c", "-o", obj)
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("no nm to list the object's symbols")
    undefined = run(nm, "-u", obj).stdout.split()
    assert undefined == [], f"the generated code calls {undefined}"


def test_kernels_emulate_binary32_rounding_exactly(tmp_path: Path) -> None:
    """The integer emulation agrees with the host's IEEE float on 11 million operations, a
    million of them requantizations next to a rounding tie."""
    exe = tmp_path / "emulation"
    kernels = tmp_path / "kernels_litert.c"
    kernels.write_text(kernel_source("litert"))
    run(cc(), "-std=c99", "-O2", f'-DKERNELS="{kernels}"', HERE / "emulation.c", "-lm", "-o", exe)
    assert run(exe).stdout.strip() == "11000000 cases, 0 failures"


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m0plus"])
def test_cross_compiles_for_cortex_m_without_float_routines(
    artifacts: Path, tmp_path: Path, cpu: str, rounding: str
) -> None:
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        pytest.skip("arm-none-eabi-gcc is not installed (Debian: gcc-arm-none-eabi)")
    export_c(artifacts / "model_int8.tflite", tmp_path, rounding=rounding)
    obj = tmp_path / f"{cpu}.o"
    # Freestanding: gcc's own <stdint.h>, so newlib need not be installed.
    flags = [f"-mcpu={cpu}", "-mthumb", "-Os", "-ffreestanding", "-pedantic", *STRICT[:4]]
    run(gcc, *flags, "-c", tmp_path / f"{STEM}.c", "-o", obj)
    undefined = set(run("arm-none-eabi-nm", "-u", obj).stdout.split()) - {"U"}
    # Only the compiler's 64-bit integer helpers (multiply, shifts, divide); no float routines.
    assert all(re.fullmatch(r"__aeabi_u?l\w+", name) for name in undefined), undefined
    if rounding == "litert":  # the binary32 reciprocal divides 64-bit integers
        assert "__aeabi_uldivmod" in undefined


@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m0plus"])
def test_cortex_m_build_identical_to_litert_under_qemu(
    generated: Path, raw_images: Path, litert_scores: np.ndarray, cpu: str
) -> None:
    """The -O2 Cortex-M4 build (SMLAD kernel) and Cortex-M0+ build (portable kernel), run
    under qemu-arm on all 10,000 test images, give the interpreter's bytes (~20 s each)."""
    outputs = qemu_outputs(generated, cpu, raw_images, len(litert_scores))
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
    args += ["--data-dir", str(mnist_dir), "--format", "c", "--rounding", "tflm"]
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
    head = (out / "model_int8.h").read_text()
    assert f'#define EDGE_MNIST_SHA256 "{sha}"' in head
    assert '#define EDGE_MNIST_ROUNDING "tflm"' in head
    # The self-test holds the golden vectors export recorded in the .tflite, and passes.
    count = manifest["artifacts"]["model_int8.tflite"]["golden"]["count"]
    assert f"static const uint8_t k_golden_in[{count * 784}]" in (out / "model_int8.c").read_text()
    exe = tmp_path / "selftest"
    run(cc(), *STRICT, "-I", out, HERE / "selftest.c", out / "model_int8.c", "-o", exe)
    assert run(exe).stdout.strip() == "0"


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
