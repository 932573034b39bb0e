"""A row's root filesystem: a minimal Debian userland for the row's architecture."""

from __future__ import annotations

import concurrent.futures
import json
import shutil
from pathlib import Path

from .outcome import Outcome
from .proc import StageError, log, run, tail
from .rows import Row
from .settings import Settings

MARKER = ".edge-mnist-rootfs"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def build(row: Row, settings: Settings, outcome: Outcome) -> Path:
    """debootstrap's first stage (download, verify, unpack the essential set), then every other
    .deb unpacked on the host: no maintainer scripts run, which qemu does not need and which
    would take minutes per row under emulation."""
    target = settings.work / "rootfs" / row.key
    if settings.reuse_rootfs and reuse(row, target, outcome):
        return target
    bootstrap(row, settings, target, outcome)
    unpack(target)
    configure(target)
    (target / MARKER).write_text(
        json.dumps({"suite": outcome.suite, "arch": row.arch, "debs": row.debs})
    )
    return target


def reuse(row: Row, target: Path, outcome: Outcome) -> bool:
    """A developer's rerun: keep an unpacked system of the same row, start from a fresh venv."""
    marker = target / MARKER
    if not marker.exists():
        return False
    done = json.loads(marker.read_text())
    if done["arch"] != row.arch or done["debs"] != row.debs or done["suite"] not in row.suites:
        return False
    shutil.rmtree(target / "opt/venv", ignore_errors=True)
    outcome.suite = done["suite"]
    outcome.notes.append("root filesystem reused from an earlier run")
    return True


def bootstrap(row: Row, settings: Settings, target: Path, outcome: Outcome) -> None:
    """The first of the row's suites whose archive downloads and validates (mirrors fail some
    of the time: each failure is a note, and the next suite is tried)."""
    for suite in row.suites:
        shutil.rmtree(target, ignore_errors=True)
        debs = settings.cache / "debs" / f"{suite}-{row.arch}"
        debs.mkdir(parents=True, exist_ok=True)
        cmd = ["debootstrap", "--foreign", "--variant=minbase", f"--arch={row.arch}"]
        cmd += [f"--cache-dir={debs}", f"--include={row.debs}", suite, str(target), settings.mirror]
        proc = run(cmd)
        if proc.returncode == 0:
            outcome.suite = suite
            return
        reason = tail(proc.stdout + proc.stderr, 2).replace("\n", " ")
        outcome.notes.append(f"{suite} {row.arch}: debootstrap failed ({reason})")
        log(f"{row.key}: {suite} failed: {reason}")
    raise StageError("no Debian release of the list could be bootstrapped")


def unpack(target: Path) -> None:
    """Every downloaded .deb unpacked into the root filesystem, then deleted."""
    archives = sorted((target / "var/cache/apt/archives").glob("*.deb"))
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for proc in pool.map(lambda d: run(["dpkg-deb", "-x", str(d), str(target)]), archives):
            if proc.returncode:
                raise StageError(f"unpacking a .deb failed: {tail(proc.stderr, 2)}")
    for deb in archives:
        deb.unlink()


def configure(target: Path) -> None:
    """What the skipped maintainer scripts would have set up and the stage needs."""
    lib = next((target / "usr/lib").glob("*-linux-gnueabi*"), None) or next(
        (target / "usr/lib").glob("aarch64-linux-gnu")
    )
    # Debian's numpy loads libblas.so.3 through update-alternatives links.
    for name in ("blas", "lapack"):
        impl = lib / name / f"lib{name}.so.3"
        link = lib / f"lib{name}.so.3"
        if impl.exists() and not link.exists():
            link.symlink_to(f"{name}/lib{name}.so.3")
    # ca-certificates' postinst would build the bundle that Debian's pip loads at start (its
    # certifi is unbundled); no maintainer scripts ran, so the host's Debian bundle stands in.
    bundle = target / "etc/ssl/certs/ca-certificates.crt"
    if not bundle.exists() and HOST_CA_BUNDLE.exists():
        bundle.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(HOST_CA_BUNDLE, bundle)
    for d in ("proc", "dev", "sys", "tmp", "opt/in", "opt/out"):
        (target / d).mkdir(parents=True, exist_ok=True)
    (target / "tmp").chmod(0o1777)
