"""Count the instructions one inference of the generated C executes, under QEMU.

The model is linked, freestanding, into a tiny static ARM program that classifies a fixed
image RUNS times and exits through the Linux exit syscall, so QEMU's user-mode emulator
(``qemu-arm``, Debian: qemu-user or qemu-user-static) runs it with no board model. QEMU logs
every translated block (``in_asm``) and every block it executes (``exec,nochain``); summing the
executed blocks' sizes gives the exact number of instructions. The difference between two and
one inference removes the start-up. Instruction counts, not cycles: the code is Thumb for the
target core, but QEMU models no pipeline, memory or wait states.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

# The qemu-arm entry point: run(), then exit(status) through the Linux syscall.
START = Path(__file__).with_name("qemu_start.S")
# A vertical stroke: the MAC loops do not depend on the pixels, only a few branches do.
HARNESS = """#include <stdint.h>
#include "model_int8.h"
int run(void);
static uint8_t image[784];
int run(void)
{
    int8_t scores[10];
    int d = 0, k, r;
    for (r = 4; r < 24; ++r) {
        for (k = 12; k < 16; ++k) {
            image[r * 28 + k] = 255;
        }
    }
    for (k = 0; k < RUNS; ++k) {
        d += edge_mnist_predict(image, scores);
    }
    return d;
}
"""


def qemu() -> str | None:
    """The user-mode ARM emulator, if installed."""
    return shutil.which("qemu-arm") or shutil.which("qemu-arm-static")


def _executed(emulator: str, elf: Path) -> int:
    proc = subprocess.Popen(
        [emulator, "-d", "in_asm,exec,nochain", str(elf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    sizes: dict[int, int] = {}
    total, start, n = 0, None, 0
    for line in proc.stderr:
        if line.startswith("0x"):  # one instruction of the block being translated
            start = int(line[2:10], 16) if start is None else start
            n += 1
        elif line.startswith("IN:"):
            start, n = None, 0
        elif line.startswith("Trace"):  # a block executed: [flags/pc/...]
            if start is not None:
                sizes[start], start, n = n, None, 0
            total += sizes[int(line.split("[")[1].split("/")[1], 16)]
    proc.wait()
    return total


def instructions_per_inference(source_dir: Path, cpu: str, opt: str = "-Os") -> int | None:
    """Executed instructions for one edge_mnist_predict call, or None without QEMU."""
    emulator = qemu()
    if emulator is None:
        return None
    (source_dir / "start.S").write_text(START.read_text())
    (source_dir / "harness.c").write_text(HARNESS)
    counts = []
    for runs in (1, 2):
        elf = source_dir / f"icount-{cpu}{opt}-{runs}.elf"
        cmd = ["arm-none-eabi-gcc", f"-mcpu={cpu}", "-mthumb", opt, "-std=c99"]
        cmd += ["-ffreestanding", "-nostdlib", "-static", "-Wl,-Ttext=0x10000", f"-DRUNS={runs}"]
        cmd += ["-I", str(source_dir), "start.S", "harness.c", "model_int8.c", "-lgcc"]
        subprocess.run([*cmd, "-o", str(elf)], check=True, cwd=source_dir)
        counts.append(_executed(emulator, elf))
    return counts[1] - counts[0]
