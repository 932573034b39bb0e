"""Flash, RAM, instructions and estimated cycles of the generated C on Cortex-M4 and M0+.

For every architecture in the registry: train it briefly (``edge-mnist pipeline --epochs 1``)
unless WORK/<arch>/model_int8.tflite exists, generate the C, cross-compile it with Debian's
``arm-none-eabi-gcc`` (``-mthumb -Os``) and print the sections that ``arm-none-eabi-size -A``
reports, the worst-case stack from ``-fstack-usage``, the instructions one inference executes
(counted under QEMU when ``qemu-arm`` is installed, see icount.py) and a cycle estimate.

    python examples/mcu/size_table.py --work /tmp/c-sizes [--json sizes.json]

The cycles are estimates, not measurements: the counted instructions times the cycles per
instruction of the compiled inner loops, from the instruction timings in ARM's technical
reference manuals with zero-wait-state memory. Real boards add flash wait states (or XIP
cache misses, e.g. the RP2040), which this does not model.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from icount import instructions_per_inference, qemu

from edge_mnist.converters.c import STEM, export_c, load_plan
from edge_mnist.models.registry import ARCHITECTURES

CORES = {
    # Inner loops at -Os (gcc 12.2): first layer LDRSB, LDRB (2 + 1 pipelined), SMLABB 1, LDR
    # of the loop bound 2, CMP 1, taken BNE 2: 9 cycles for 7 instructions; the other layers
    # LDRSB, LDRSB (2 + 1), CMP, SMLABB, BNE (2): 7 for 5.
    "cortex-m4": {"cpi": 1.3, "mhz": 168},
    # First layer LDR, LDRB, LDRSB (2 each), ADDS, MULS (single-cycle multiplier), ADDS, CMP,
    # taken BNE (2): 12 cycles for 8 instructions; the others 16 for 11.
    "cortex-m0plus": {"cpi": 1.5, "mhz": 133},
}
# Freestanding: gcc's own <stdint.h>, so newlib need not be installed.
FLAGS = ["-mthumb", "-Os", "-std=c99", "-Wall", "-Wextra", "-Werror", "-ffreestanding"]
FLAGS += ["-fstack-usage"]  # a .su file per object: each function's frame


def _model(work: Path, arch: str) -> Path:
    folder = work / arch
    model = folder / "model_int8.tflite"
    if not model.is_file():
        print(f"training {arch} for one epoch into {folder} ...", file=sys.stderr)
        exe = Path(sys.executable).with_name("edge-mnist")
        cmd = [str(exe), "pipeline", "--arch", arch, "--epochs", "1", "--quiet"]
        subprocess.run([*cmd, "--out", str(folder)], check=True, stdout=subprocess.DEVNULL)
    return model


def _sections(obj: Path) -> dict[str, int]:
    out = subprocess.run(
        ["arm-none-eabi-size", "-A", str(obj)], capture_output=True, text=True, check=True
    ).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in (".text", ".rodata", ".data", ".bss"):
            sizes[parts[0][1:]] = int(parts[1])
    return {k: sizes.get(k, 0) for k in ("text", "rodata", "data", "bss")}


def _stack(su: Path) -> int:
    """Upper bound: the sum of every function's frame (there is no recursion)."""
    return sum(int(line.split("\t")[1]) for line in su.read_text().splitlines() if line)


def measure(model: Path, build: Path) -> list[dict[str, object]]:
    """One row per core for one .tflite."""
    export_c(model, build)
    plan = load_plan(model)
    rows = []
    for cpu, cost in CORES.items():
        obj = build / f"{cpu}.o"
        src = build / f"{STEM}.c"
        cmd = ["arm-none-eabi-gcc", f"-mcpu={cpu}", *FLAGS, "-c", str(src), "-o", str(obj)]
        subprocess.run(cmd, check=True, cwd=build)
        sec = _sections(obj)
        instructions = instructions_per_inference(build, cpu)
        cycles = None if instructions is None else instructions * float(cost["cpi"])
        rows.append(
            {
                "core": cpu,
                **sec,
                "flash": sec["text"] + sec["rodata"] + sec["data"],
                "ram": sec["data"] + sec["bss"],
                "stack_max": _stack(obj.with_suffix(".su")),
                "macs": plan.macs,
                "instructions": instructions,
                "est_cycles": None if cycles is None else round(cycles),
                "est_ms": None if cycles is None else round(cycles / (cost["mhz"] * 1e3), 1),
                "at_mhz": cost["mhz"],
            }
        )
    return rows


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:,}" if isinstance(value, int) else str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="folder for models and builds")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args()
    if shutil.which("arm-none-eabi-gcc") is None:
        print("arm-none-eabi-gcc not found (Debian: apt-get install gcc-arm-none-eabi)")
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    table = []
    for arch in ARCHITECTURES:
        for row in measure(_model(args.work, arch), args.work / arch / "c"):
            table.append({"arch": arch, **row})
    head = ["arch", "core", "text", "rodata", "data", "bss", "flash", "ram", "stack_max"]
    head += ["macs", "instructions", "est_cycles", "est_ms"]
    if qemu() is None:
        print("qemu-arm not found: no instruction counts (Debian: qemu-user)", file=sys.stderr)
    print(" | ".join(head))
    for row in table:
        print(" | ".join(_cell(row[h]) for h in head))
    if args.json:
        args.json.write_text(json.dumps(table, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
