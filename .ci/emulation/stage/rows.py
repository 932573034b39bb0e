"""The row table: which Raspberry Pi OS userlands are emulated, and with which backends."""

from __future__ import annotations

from dataclasses import dataclass

from .names import MODELS

# Which models each backend runs ('numpy' is the pure-NumPy TFLite engine, --backend numpy).
FORMATS = {
    "litert": ".tflite",
    "tflite-runtime": ".tflite",
    "numpy": ".tflite",
    "onnxruntime": ".onnx",
}
# Backends whose digits must equal the host's bit for bit; the others are reported.
EXACT = ("litert", "tflite-runtime", "numpy")
ARM64_DEBS = "python3,python3-venv,libstdc++6"
# Debian's numpy needs a BLAS: the packages are unpacked without maintainer scripts, so the
# update-alternatives links are made by hand (see rootfs.py).
ARM32_DEBS = "python3,python3-venv,python3-numpy,python3-pil,python3-jsonschema,libblas3,liblapack3"
# pip's platform tag per Debian architecture, and what each Debian release ships.
PIP_PLATFORM = {"arm64": "aarch64", "armhf": "armv7l", "armel": "armv6l"}
GLIBC = {"bookworm": 36, "trixie": 41}
PYTHON = {"bookworm": "3.11", "trixie": "3.13"}


@dataclass(frozen=True)
class Row:
    """One emulated Raspberry Pi OS userland."""

    key: str
    platform: str
    suites: tuple[str, ...]  # tried in order: the first whose archive validates is used
    arch: str  # Debian architecture
    cpu: str  # QEMU_CPU: the board's core, never 'max' (SVE/SME kernels go wrong under qemu)
    cpuinfo: str  # file in cpuinfo/, shown to the guest as /proc/cpuinfo
    backends: tuple[str, ...]
    debs: str
    pip: tuple[str, ...]  # what the user pip-installs (with the project's wheel)
    pypi_binaries: bool  # True: every wheel from PyPI; False: Debian's numpy/Pillow + pure wheels


ROWS = (
    Row(
        "bookworm-arm64",
        "Pi OS 64-bit, Bookworm (Pi 4)",
        ("bookworm",),
        "arm64",
        "cortex-a72",
        "pi4-cortex-a72",
        ("litert", "tflite-runtime", "onnxruntime", "numpy"),
        ARM64_DEBS,
        ("edge-mnist[litert,onnx,tflite]", "numpy<2", "pytest>=8", "jsonschema>=4.20"),
        True,
    ),
    Row(
        "trixie-arm64",
        "Pi OS 64-bit, Trixie (Pi 5)",
        ("trixie",),
        "arm64",
        "cortex-a76",
        "pi5-cortex-a76",
        ("litert", "onnxruntime", "numpy"),
        ARM64_DEBS,
        ("edge-mnist[litert,onnx]", "pytest>=8", "jsonschema>=4.20"),
        True,
    ),
    Row(
        "armhf",
        "Pi OS 32-bit (Pi 2/3)",
        ("trixie", "bookworm"),
        "armhf",
        "cortex-a7",
        "pi2-cortex-a7",
        ("numpy",),
        ARM32_DEBS,
        ("edge-mnist", "pytest>=8"),
        False,
    ),
    Row(
        "armel",
        "Pi Zero / Pi 1 (ARMv6)",
        ("trixie", "bookworm"),
        "armel",
        "arm1176",
        "pi-zero-arm1176",
        ("numpy",),
        ARM32_DEBS,
        ("edge-mnist", "pytest>=8"),
        False,
    ),
)
# The two longest rows start first, one per lane, so that two lanes end together
# (timings in docs/2026-12-03-emulation.md).
LONGEST = ("bookworm-arm64", "armel")


def models_for(backend: str) -> list[str]:
    """The models a backend runs, in MODELS order."""
    return [m for m in MODELS if m.endswith(FORMATS[backend])]


def pairs(rows: list[Row]) -> set[tuple[str, str]]:
    """Every (backend, model) the rows run: what the host must classify as the reference."""
    return {(b, m) for r in rows for b in r.backends for m in models_for(b)}


def by_table_order(key: str) -> int:
    """Sort key: a row's place in ROWS."""
    return [r.key for r in ROWS].index(key)
