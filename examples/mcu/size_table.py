"""Flash, RAM, instructions and estimated cycles of the generated C on Cortex-M4 and M0+.

For every architecture in the registry (or those named with --arch): train it briefly
(``edge-mnist pipeline --epochs 1``) unless WORK/<arch>/model_int8.tflite exists, generate the
C, cross-compile it with Debian's ``arm-none-eabi-gcc`` (``-mthumb``, at -O2 and at -Os) and
print the sections that ``arm-none-eabi-size -A`` reports, the worst-case stack from
``-fstack-usage``, the instructions one inference executes (counted under QEMU when
``qemu-arm`` is installed, see icount.py), per multiply-accumulate, and a cycle estimate.

    python examples/mcu/size_table.py --work /tmp/c-sizes [--arch mlp-300x2] [--json t.json]

Counted: instructions (every instruction executed, two inferences minus one). Estimated:
cycles, as the counted instructions times the cycles per instruction of the compiled inner
loop (which executes over 90% of them), from the instruction timings in ARM's technical
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
    # The SMLAD kernel's loop (gcc 12.2 -O2, 16 MACs): two LDRD of weights (3 each), one LDR
    # of inputs (2), ten UXTB16 and eight SMLAD (1 each), MOV, ADD, CMP (1 each) and the taken
    # BNE (2): 31 cycles for 25 instructions.
    "cortex-m4": {"cpi": 1.25, "mhz": 168},
    # The portable kernel's loop (-O2, 8 MACs): twelve LDRB (2 each), eight MULS (single-cycle
    # multiplier), eight ADDS, MOVS, two pointer ADDS, CMP (1 each), taken BNE (2): 46 cycles
    # for 33 instructions.
    "cortex-m0plus": {"cpi": 1.4, "mhz": 133},
}
OPTS = ("-O2", "-Os")
# Freestanding: gcc's own <stdint.h>, so newlib need not be installed.
FLAGS = ["-mthumb", "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-ffreestanding"]
FLAGS += ["-fstack-usage"]  # a .su file per object: each function's frame
# The model's own cost; the self-test adds its vectors (794 bytes each) and ~350-550 bytes of
# code (docs/2026-12-03-c-rounding-and-selftest.md).
FLAGS += ["-DEDGE_MNIST_NO_SELFTEST"]


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
    """One row per core and optimization level for one .tflite."""
    export_c(model, build)
    plan = load_plan(model)
    rows = []
    for cpu, cost in CORES.items():
        for opt in OPTS:
            obj = build / f"{cpu}{opt}.o"
            src = build / f"{STEM}.c"
            cmd = ["arm-none-eabi-gcc", f"-mcpu={cpu}", opt, *FLAGS, "-c", str(src)]
            subprocess.run([*cmd, "-o", str(obj)], check=True, cwd=build)
            sec = _sections(obj)
            instructions = instructions_per_inference(build, cpu, opt)
            cycles = None if instructions is None else instructions * float(cost["cpi"])
            rows.append(
                {
                    "core": cpu,
                    "opt": opt,
                    **sec,
                    "flash": sec["text"] + sec["rodata"] + sec["data"],
                    "ram": sec["data"] + sec["bss"],
                    "stack_max": _stack(obj.with_suffix(".su")),
                    "macs": plan.macs,
                    "instructions": instructions,
                    "per_mac": None if instructions is None else round(instructions / plan.macs, 2),
                    "est_cycles": None if cycles is None else round(cycles),
                    "est_ms": None if cycles is None else round(cycles / (cost["mhz"] * 1e3), 2),
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
    parser.add_argument(
        "--arch", action="append", choices=list(ARCHITECTURES), help="only these (repeatable)"
    )
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args()
    if shutil.which("arm-none-eabi-gcc") is None:
        print("arm-none-eabi-gcc not found (Debian: apt-get install gcc-arm-none-eabi)")
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    table = []
    for arch in args.arch or ARCHITECTURES:
        for row in measure(_model(args.work, arch), args.work / arch / "c"):
            table.append({"arch": arch, **row})
    head = ["arch", "core", "opt", "text", "rodata", "data", "bss", "flash", "ram", "stack_max"]
    head += ["macs", "instructions", "per_mac", "est_cycles", "est_ms"]
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
