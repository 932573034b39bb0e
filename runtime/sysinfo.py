"""What machine a benchmark ran on: CPU, governor, temperature, throttling, memory, versions."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from typing import Any

import numpy as np

from .backends import TABLE

# Environment variables that change how many threads an interpreter uses.
THREAD_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)
# Distributions whose versions go into the environment block: every backend's packages.
VERSIONED = tuple(dist for spec in TABLE for dist in spec.dists)


def peak_rss_bytes() -> int | None:
    """The process's peak resident set size so far (None where getrusage is missing)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in bytes on macOS and in KiB on Linux and the BSDs.
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def current_rss_bytes() -> int | None:
    """The process's resident set size now, from /proc/self/statm (None elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").strip("\x00\n\r\t ") or None
    except OSError:
        return None


def _sys_number(path: str, divisor: float) -> float | None:
    text = _read(path)
    try:
        return round(int(text or "") / divisor, 1)
    except ValueError:
        return None


def cpu_model() -> str:
    """The CPU's name from /proc/cpuinfo or sysctl, else what platform knows."""
    info = _read("/proc/cpuinfo") or ""
    for key in ("model name", "Hardware", "cpu model", "Processor"):
        for line in info.splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key and value.strip():
                return value.strip()
    if sys.platform == "darwin":
        try:
            out = subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"],
                capture_output=True,
                text=True,
                timeout=2,
            )
        except (OSError, subprocess.SubprocessError):
            out = None
        if out is not None and out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    return platform.processor() or platform.machine() or "unknown"


def board(cpuinfo: str | None = None) -> str | None:
    """The board's name: /proc/device-tree/model (ARM boards), else the "Model" line that
    Raspberry Pi OS kernels add to /proc/cpuinfo (or to the ``cpuinfo`` text given); None on
    a PC or where neither says it."""
    name = None if cpuinfo is not None else _read("/proc/device-tree/model")
    if name:
        return name
    text = _read("/proc/cpuinfo") if cpuinfo is None else cpuinfo
    for line in (text or "").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Model" and value.strip():
            return value.strip()
    return None


# CPU features the interpreters' int8 and float kernels choose their code by, per architecture:
# (the /proc/cpuinfo flag, what it is). XNNPACK and onnxruntime use the int8 dot product
# (asimddp) and matrix-multiply (i8mm) instructions where present, VNNI on x86.
CPU_FEATURES = {
    "aarch64": (
        ("asimd", "NEON (Advanced SIMD)"),
        ("asimddp", "int8 dot product (SDOT)"),
        ("i8mm", "int8 matrix multiply"),
        ("fphp", "float16 arithmetic"),
    ),
    "armv7l": (("neon", "NEON"), ("vfpv4", "VFPv4 floating point")),
    "armv6l": (("vfp", "VFP floating point"),),
    "x86_64": (
        ("avx2", "AVX2"),
        ("fma", "FMA"),
        ("avx512f", "AVX-512"),
        ("avx512_vnni", "AVX-512 VNNI (int8 dot product)"),
        ("avx_vnni", "AVX-VNNI (int8 dot product)"),
    ),
}


def cpu_features(machine: str | None = None, cpuinfo: str | None = None) -> dict[str, bool] | None:
    """For this CPU's architecture, which of CPU_FEATURES /proc/cpuinfo (or the ``cpuinfo``
    text given) lists; None where it cannot be read (macOS) or for another architecture."""
    from .wheels import normal_machine

    wanted = CPU_FEATURES.get(normal_machine(machine or platform.machine()))
    info = _read("/proc/cpuinfo") if cpuinfo is None else cpuinfo
    if wanted is None or info is None:
        return None
    flags: set[str] = set()
    for line in info.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            flags = set(value.split())
            break
    return {flag: flag in flags for flag, _ in wanted}


def throttled() -> str | None:
    """Raspberry Pi firmware's throttling flags (``vcgencmd get_throttled``), if available."""
    exe = shutil.which("vcgencmd")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "get_throttled"], capture_output=True, text=True, timeout=2)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    text = out.stdout.strip()
    return text.partition("=")[2] or text or None


def temperature_c() -> float | None:
    """The first thermal zone's temperature in °C, where readable."""
    return _sys_number("/sys/class/thermal/thermal_zone0/temp", 1000.0)


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Installed versions of numpy, the interpreter packages and the ``extra`` distributions
    (the one place that collects versions, for bench reports and the host's records alike)."""
    import importlib.metadata

    out = {"numpy": np.__version__}
    for dist in dict.fromkeys((*extra, *VERSIONED)):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def environment(threads: int | None = None) -> dict[str, Any]:
    """CPU, governor, temperature, OS, Python and package versions, and thread settings."""
    cpufreq = "/sys/devices/system/cpu/cpu0/cpufreq/"
    try:
        usable: int | None = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = None
    return {
        "cpu_model": cpu_model(),
        "board": board(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "cores_usable": usable,
        "governor": _read(cpufreq + "scaling_governor"),
        "cpu_mhz": _sys_number(cpufreq + "scaling_cur_freq", 1000.0),
        "cpu_max_mhz": _sys_number(cpufreq + "scaling_max_freq", 1000.0),
        "temperature_c": temperature_c(),
        "throttled": throttled(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "packages": package_versions(),
        "threads": {
            "requested": threads,
            "env": {k: os.environ[k] for k in THREAD_ENV if k in os.environ},
        },
    }


# The one rule for a board id: it names a baseline file (``baselines/<id>.json``), so only
# file-name-safe characters, no '/' and no leading '.' (no path traversal, no hidden files).
# The pattern is repeated in bench/report.schema.json and the fleet schemas' board_id.
BOARD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def board_id(env: dict[str, Any], host: str | None = None) -> str:
    """A short, file-name-safe id for the machine in ``env`` (an environment() block): the Pi
    model where the device tree names one (``raspberry-pi-5-model-b-rev-1-0``), else ``host``
    and the CPU. ``bench --board NAME`` overrides it; ``bench gate`` matches baselines by it.

    ``host`` is given only when recording on the machine itself; a report read elsewhere is
    identified by its own fields alone (the reader's host name says nothing about the board)."""
    name = env.get("board") or f"{host or 'host'} {env.get('cpu_model') or ''}"
    return re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")[:80] or "unknown"
