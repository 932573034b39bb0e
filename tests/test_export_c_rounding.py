"""C export with --rounding reference and tflm: the generated C gives that interpreter's bytes
(the engine's variant, which equals it on all 10,000 test images, and the interpreter itself
where importable: tflite-micro, ai-edge-litert without its delegate) on all 10,000 MNIST test
images, built for the host and for Cortex-M4 under QEMU; each rounding's rescale agrees with
the engine's integer arithmetic on a million random operands; and, on a synthetic model, the
kernel shapes the registry's models never have, under every rounding."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from c_build import HERE, cc, code, host_outputs, qemu_outputs, run

from edge_mnist.converters.c import ROUNDINGS, STEM, export_c, load_plan
from edge_mnist.converters.c.plan import Dense, Plan, dense
from edge_mnist.converters.c.render import Card, header, source
from edge_mnist.converters.c.variants import kernel_source
from edge_mnist.runtime.engine import Engine
from edge_mnist.runtime.engine.fixedpoint import quantize_multiplier
from edge_mnist.runtime.engine.rounding import REQUANTIZE

FIXED = ["reference", "tflm"]


def _pixels_to_int8(images: np.ndarray) -> np.ndarray:
    return (np.asarray(images, np.uint8) ^ np.uint8(0x80)).view(np.int8)


def _assert_identical(outputs: tuple[np.ndarray, np.ndarray], expected: np.ndarray) -> None:
    digits, scores = outputs
    assert scores.shape == expected.shape and expected.dtype == np.int8
    differ = int(np.sum(np.any(scores != expected, axis=1)))
    assert differ == 0, f"scores differ on {differ} of {len(expected)} images"
    assert np.array_equal(digits, expected.argmax(axis=1))


@pytest.fixture(scope="module")
def raw(
    test_images: tuple[np.ndarray, np.ndarray], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = tmp_path_factory.mktemp("c-raw") / "images.u8"
    path.write_bytes(np.ascontiguousarray(test_images[0], dtype=np.uint8).tobytes())
    return path


@pytest.fixture(scope="module", params=FIXED)
def rounded(
    request: pytest.FixtureRequest, artifacts: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    rounding = request.param
    out = tmp_path_factory.mktemp(f"c-{rounding}")
    export_c(artifacts / "model_int8.tflite", out, rounding=rounding)
    return rounding, out


@pytest.fixture(scope="module")
def engine_scores(
    artifacts: Path, test_images: tuple[np.ndarray, np.ndarray]
) -> dict[str, np.ndarray]:
    x = _pixels_to_int8(test_images[0])
    path = artifacts / "model_int8.tflite"
    return {r: Engine.load(path, rounding=r).run(x) for r in ROUNDINGS}


def _interpreter_scores(rounding: str, path: Path, images: np.ndarray) -> np.ndarray:
    """The interpreter the rounding names, where it is installed (else the test skips)."""
    x = _pixels_to_int8(images)
    if rounding == "tflm":
        runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
        it = runtime.Interpreter.from_file(str(path))
        out = np.empty((len(x), 10), np.int8)
        for i in range(len(x)):  # batch 1: TFLite Micro cannot resize its input
            it.set_input(x[i : i + 1], 0)
            it.invoke()
            out[i] = np.asarray(it.get_output(0)).reshape(-1)
        return out
    module = pytest.importorskip("ai_edge_litert.interpreter")
    resolver = module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    it = module.Interpreter(model_path=str(path), experimental_op_resolver_type=resolver)
    detail = it.get_input_details()[0]
    it.resize_tensor_input(detail["index"], x.shape)
    it.allocate_tensors()
    it.set_tensor(detail["index"], x)
    it.invoke()
    return np.asarray(it.get_tensor(it.get_output_details()[0]["index"]))


def test_host_build_identical_to_the_engine_variant_on_all_test_images(
    rounded: tuple[str, Path], raw: Path, engine_scores: dict[str, np.ndarray]
) -> None:
    rounding, folder = rounded
    outputs = host_outputs(folder, raw, 10_000)
    _assert_identical(outputs, engine_scores[rounding])
    # Not litert's bytes: the model has images where the roundings part ways.
    assert np.any(outputs[1] != engine_scores["litert"])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_host_build_identical_to_the_interpreter_on_all_test_images(
    rounded: tuple[str, Path],
    raw: Path,
    artifacts: Path,
    test_images: tuple[np.ndarray, np.ndarray],
) -> None:
    """tflm against tflite-micro, reference against ai-edge-litert's built-in kernels."""
    rounding, folder = rounded
    expected = _interpreter_scores(rounding, artifacts / "model_int8.tflite", test_images[0])
    _assert_identical(host_outputs(folder, raw, 10_000), expected)


def test_cortex_m4_build_identical_to_the_engine_variant_under_qemu(
    rounded: tuple[str, Path], raw: Path, engine_scores: dict[str, np.ndarray]
) -> None:
    """The -O2 Cortex-M4 build (SMLAD kernel) on all 10,000 test images (~20 s)."""
    rounding, folder = rounded
    _assert_identical(qemu_outputs(folder, "cortex-m4", raw, 10_000), engine_scores[rounding])


# The functions only one rounding's C holds: the generated file has its own and no other's.
OWN = {
    "litert": {"em_from_bits", "em_to_int_rne", "em_recip"},
    "reference": {"em_floor_shift", "em_from_bits", "em_recip"},
    "tflm": {"em_floor_shift", "em_srdhm", "em_rdpot", "em_one_over_one_plus_x"},
}


@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_generated_code_holds_only_the_chosen_rounding(
    artifacts: Path, tmp_path: Path, rounding: str
) -> None:
    export_c(artifacts / "model_int8.tflite", tmp_path, rounding=rounding)
    text = code(tmp_path / f"{STEM}.c")
    defined = set(re.findall(r"^static [\w ]+?\b(em_\w+)\(", text, flags=re.M))
    others = set().union(*(names for r, names in OWN.items() if r != rounding)) - OWN[rounding]
    assert OWN[rounding] <= defined and not (others & defined), sorted(defined)
    assert len(re.findall(r"^static int32_t em_rescale\(", text, flags=re.M)) == 2  # decl + def
    assert f'#define EDGE_MNIST_ROUNDING "{rounding}"' in (tmp_path / f"{STEM}.h").read_text()
    # The table type follows the softmax: binary32 bit patterns, or Q0.31 fixed point.
    table = "int32_t k_exp[256]" if rounding == "tflm" else "uint32_t k_exp[256]"
    assert f"static const {table}" in text


@pytest.mark.parametrize("rounding", FIXED)
def test_rescale_equals_the_engine_on_a_million_random_operands(
    tmp_path: Path, rounding: str
) -> None:
    """Every accumulator magnitude, both signs, left and right shifts, and both roundings'
    ties: with q = 2^30 the first rounding halves acc exactly (even acc) or hits its tie (odd
    acc), and acc = 2^(right + 1) k + 2^right (+ 1) puts the second on its tie too."""
    rng = np.random.default_rng(3)
    n = 1_000_000
    acc = rng.integers(-(2**31), 2**31, n) >> rng.integers(0, 31, n)
    q = rng.integers(2**30, 2**31, n)
    shift = rng.integers(-31, 8, n)
    ties = rng.random(n) < 0.25
    right = np.clip(-shift, 1, 20)
    tie_acc = (rng.integers(-500, 500, n) << (right + 1)) + (1 << right) + rng.integers(0, 2, n)
    acc = np.where(ties, tie_acc, acc)
    q = np.where(ties, 2**30, q)
    shift = np.where(ties, -right, shift)
    acc[:6] = [-(2**31), 2**31 - 1, 0, 1, -1, -2]
    kernels = tmp_path / f"kernels_{rounding}.c"
    kernels.write_text(kernel_source(rounding))
    exe = tmp_path / "rescale"
    flags = ["-std=c99", "-O2", "-Wall", "-Werror", "-Wno-unused-function"]
    run(cc(), *flags, f'-DKERNELS="{kernels}"', HERE / "rescale.c", "-o", exe)
    operands = tmp_path / "operands.bin"
    np.stack([acc, q, shift], axis=1).astype("<i4").tofile(operands)
    with operands.open("rb") as stdin:
        out = subprocess.run([str(exe)], stdin=stdin, capture_output=True, check=True).stdout
    got = np.frombuffer(out, "<i4").astype(np.int64)
    expected = REQUANTIZE[rounding](acc.astype(np.int64), q, shift)
    assert got.shape == expected.shape
    differ = np.flatnonzero(got != expected)
    assert len(differ) == 0, f"{len(differ)} differ, first {differ[:3]}"


# ---- kernel shapes the registry's models never have ------------------------------------
# Inputs not a multiple of four, rows left over after the blocks of four, a non-zero input
# offset folded into the bias, per-tensor and per-channel multipliers, outputs spread over
# the whole int8 range (so the softmaxes part ways): on the host, the Cortex-M4 and the
# Cortex-M0+ builds, under every rounding, against the engine's arithmetic in NumPy.

ODD_IMAGES = 1000
# (n_out, output zero point, ReLU, per-channel multiplier) per layer; 784 -> 13 -> 7 -> 10.
SHAPES = [(13, 5, True, True), (7, -20, False, False), (10, 3, False, True)]


def _rescale(acc: np.ndarray, layer: Dense, rounding: str) -> np.ndarray:
    if rounding == "litert":
        return np.rint(acc.astype(np.float32) * layer.multiplier).astype(np.int64)
    assert layer.fixed_q is not None and layer.fixed_shift is not None
    return REQUANTIZE[rounding](acc, layer.fixed_q, layer.fixed_shift)


def _reference(plan: Plan, images: np.ndarray, rounding: str, softmax: Any) -> np.ndarray:
    """The engine's arithmetic: exact int accumulators, the rounding's rescale, its softmax."""
    x = images.astype(np.int64) - 128
    for layer in plan.layers:
        acc = (x - layer.input_zero) @ layer.weights.astype(np.int64).T + layer.bias
        q = _rescale(acc, layer, rounding)
        x = np.clip(q, layer.lo - layer.zero_point, layer.hi - layer.zero_point) + layer.zero_point
    return np.asarray(softmax(x.astype(np.int8)))


@pytest.fixture(scope="module")
def odd_plan(artifacts: Path, test_images: tuple[np.ndarray, np.ndarray]) -> tuple[Plan, Path]:
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
        real_mult = 100.0 / spread if per_channel else np.array([100 / spread.max()])
        fixed = [quantize_multiplier(float(m)) for m in real_mult]
        q_shift = (np.array([f[0] for f in fixed]), np.array([f[1] for f in fixed]))
        lo = zero if relu else -128
        layer = dense(w, b, in_zero, real_mult.astype(np.float32), zero, lo, 127, q_shift)
        layers.append(layer)
        q = np.rint(acc.astype(np.float32) * layer.multiplier).astype(np.int64) + zero
        x, n_in, in_zero = np.clip(q, lo, 127), n_out, zero
    base = load_plan(real)
    return Plan(tuple(layers), base.softmax, base.input_scale, base.input_zero), real


@pytest.fixture(scope="module", params=ROUNDINGS)
def odd_model(
    request: pytest.FixtureRequest,
    odd_plan: tuple[Plan, Path],
    test_images: tuple[np.ndarray, np.ndarray],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, np.ndarray]:
    rounding = request.param
    plan, real = odd_plan
    images = test_images[0][:ODD_IMAGES]
    folder = tmp_path_factory.mktemp(f"c-shapes-{rounding}")
    card = Card("synthetic", "0" * 64, None)
    (folder / f"{STEM}.h").write_text(header(plan, card, STEM, rounding))
    (folder / f"{STEM}.c").write_text(source(plan, card, STEM, rounding))
    raw_path = folder / "images.u8"
    raw_path.write_bytes(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
    softmax = Engine.load(real, rounding=rounding).steps[-1]
    expected = _reference(plan, images, rounding, softmax)
    # The synthetic model must not be degenerate: many distinct scores and digits.
    assert len(np.unique(expected)) > 50 and len(np.unique(expected.argmax(axis=1))) > 5
    return folder, raw_path, expected


def test_the_roundings_differ_on_the_synthetic_model(
    odd_plan: tuple[Plan, Path], test_images: tuple[np.ndarray, np.ndarray]
) -> None:
    """So the shape tests below tell the three roundings (and both softmaxes) apart."""
    plan, real = odd_plan
    images = test_images[0][:ODD_IMAGES]
    out = {
        r: _reference(plan, images, r, Engine.load(real, rounding=r).steps[-1]) for r in ROUNDINGS
    }
    assert np.any(out["litert"] != out["reference"]) and np.any(out["reference"] != out["tflm"])


@pytest.mark.parametrize("target", ["host", "cortex-m4", "cortex-m4-portable", "cortex-m0plus"])
def test_odd_shapes_identical_to_the_engine(
    odd_model: tuple[Path, Path, np.ndarray], target: str
) -> None:
    folder, raw_path, expected = odd_model
    if target == "host":
        outputs = host_outputs(folder, raw_path, ODD_IMAGES)
    else:
        cpu = target.removesuffix("-portable")
        outputs = qemu_outputs(folder, cpu, raw_path, ODD_IMAGES, portable=cpu != target)
    _assert_identical(outputs, expected)
