"""Building and running the generated C in tests: the host compiler, and Cortex-M builds run
under QEMU's user-mode emulator (tests/c/ holds the drivers)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from edge_mnist.converters.c import STEM

HERE = Path(__file__).parent / "c"
# The qemu-arm entry point the instruction count of examples/mcu uses too.
START = Path(__file__).parents[1] / "examples" / "mcu" / "qemu_start.S"
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2"]


def cc() -> str:
    found = shutil.which("cc") or shutil.which("gcc")
    if found is None:
        pytest.skip("no host C compiler (cc)")
    return found


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result


def code(path: Path) -> str:
    """C source without comments."""
    return re.sub(r"/\*.*?\*/", " ", path.read_text(), flags=re.S)


def records(path: Path, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The drivers' output: digits (N,) and int8 scores (N, 10)."""
    rows = np.fromfile(path, dtype=np.uint8).reshape(-1, 11)
    assert len(rows) == n
    return rows[:, 0].astype(np.int64), rows[:, 1:].view(np.int8)


def host_outputs(folder: Path, raw: Path, n: int) -> tuple[np.ndarray, np.ndarray]:
    """folder's model_int8.c built for the host (-pedantic) and run on the raw images."""
    exe = folder / "driver"
    sources = [HERE / "driver.c", folder / f"{STEM}.c"]
    run(cc(), *STRICT, "-pedantic", "-I", folder, *sources, "-o", exe)
    run(exe, raw, folder / "out.bin")
    return records(folder / "out.bin", n)


def arm_tools() -> tuple[str, str]:
    gcc, qemu = shutil.which("arm-none-eabi-gcc"), shutil.which("qemu-arm")
    if gcc is None or qemu is None:
        pytest.skip("needs arm-none-eabi-gcc and qemu-arm (Debian: gcc-arm-none-eabi qemu-user)")
    return gcc, qemu


def qemu_build(folder: Path, cpu: str, driver: str, name: str, extra: tuple[str, ...] = ()) -> Path:
    """folder's model_int8.c with tests/c/<driver> for cpu at -O2, freestanding (the Linux
    system calls made directly), as an ELF that qemu-arm runs."""
    gcc, _qemu = arm_tools()
    elf = folder / f"{name}.elf"
    flags = [f"-mcpu={cpu}", "-mthumb", "-pedantic", *STRICT, "-ffreestanding", "-nostdlib"]
    flags += ["-static", "-Wl,-Ttext=0x10000", "-I", str(folder), *extra]
    sources = [START, HERE / driver, folder / f"{STEM}.c"]
    run(gcc, *flags, *sources, "-lgcc", "-o", elf)
    return elf


def qemu_outputs(
    folder: Path, cpu: str, raw: Path, n: int, portable: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Build folder's model_int8.c for cpu with the freestanding driver and run it on the raw
    images under qemu-arm; portable forces the portable kernel."""
    name = f"qemu-{cpu}{'-portable' if portable else ''}"
    extra = ("-DEDGE_MNIST_PORTABLE",) if portable else ()
    elf = qemu_build(folder, cpu, "qemu_driver.c", name, extra)
    # The kernel the build took: the DSP one has SMLAD, the portable one does not.
    dsp = "smlad" in run("arm-none-eabi-objdump", "-d", elf).stdout
    assert dsp == (cpu == "cortex-m4" and not portable)
    out = elf.with_suffix(".bin")
    with raw.open("rb") as stdin, out.open("wb") as stdout:
        subprocess.run([arm_tools()[1], str(elf)], stdin=stdin, stdout=stdout, check=True)
    return records(out, n)
