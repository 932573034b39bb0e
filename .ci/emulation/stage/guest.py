"""Running a command inside a row's root filesystem under qemu, as the board would."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from .proc import run
from .rows import Row
from .settings import CPUINFO


def environment(cpu: str) -> dict[str, str]:
    """The whole environment of a guest command (env -i: nothing leaks from the host)."""
    return {
        "PATH": "/opt/venv/bin:/usr/bin:/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "QEMU_CPU": cpu,
        "EDGE_MNIST_DATA": "/opt/in/mnist",
        "EDGE_MNIST_TEST_ARTIFACTS": "/opt/in/artifacts",
        "CI": "true",
        "COLUMNS": "120",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


@dataclass(frozen=True)
class Guest:
    """One row's root filesystem with the host folders bound into it (guest path -> host path)."""

    target: Path
    row: Row
    binds: dict[str, Path]

    def run(self, argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        """Run argv inside the root filesystem, in a private mount namespace (the mounts vanish
        with it), with the row's CPU and a Raspberry Pi /proc/cpuinfo: qemu 7.2 otherwise shows
        the host's x86 one, on which the cpuinfo library in onnxruntime and LiteRT segfaults."""
        target = self.target
        mounts = [
            f"mount -t proc proc {target}/proc",
            f"mount --bind {CPUINFO / self.row.cpuinfo} {target}/proc/cpuinfo",
            f"mount --rbind /dev {target}/dev",
            f"mount -t sysfs sysfs {target}/sys",
        ]
        for dst, src in self.binds.items():
            (target / dst.lstrip("/")).mkdir(parents=True, exist_ok=True)
            mounts.append(f"mount --bind {src} {target}{dst}")
        script = " && ".join(mounts) + ' && exec chroot "$0" env -i "$@"'
        pairs = [f"{k}={v}" for k, v in environment(self.row.cpu).items()]
        cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(target)]
        try:
            return run([*cmd, *pairs, *argv], timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
            return subprocess.CompletedProcess(argv, 124, out, f"timed out after {timeout:.0f} s")
