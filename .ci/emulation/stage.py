"""The emulation stage: Raspberry Pi OS userlands under qemu, compared digit by digit with x86.

One pipeline: host reference -> per row (root filesystem, install, checks) -> summary JSON.
Run it through .ci/emulate, which installs qemu and debootstrap and registers binfmt handlers.
Only the standard library is used: the stage runs before, and apart from, any project venv.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
MIRROR = os.environ.get("EDGE_MNIST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
MODELS = ("model_int8.tflite", "model_float32.tflite", "model_int8.onnx", "model_float32.onnx")
# Which models each backend runs.
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
# update-alternatives links are made by hand (see _rootfs).
ARM32_DEBS = "python3,python3-venv,python3-numpy,python3-pil,python3-jsonschema,libblas3,liblapack3"


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


# The row table: platform x backends. 'numpy' is the pure-NumPy TFLite engine (--backend numpy).
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
LONGEST = ("bookworm-arm64", "armel")
QEMU = {"arm64": "aarch64", "armhf": "arm", "armel": "arm"}
PIP_PLATFORM = {"arm64": "aarch64", "armhf": "armv7l", "armel": "armv6l"}
GLIBC = {"bookworm": 36, "trixie": 41}
PYTHON = {"bookworm": "3.11", "trixie": "3.13"}
# Device tests run under emulation (EDGE_MNIST_EMULATE_TESTS=all runs every device test).
# Device tests run under emulation (EDGE_MNIST_EMULATE_TESTS=all runs every device test, which
# takes far longer than the stage's budget): loading, every backend, the CLI, bad models in a
# child process, threads. Left out: the float32 models compared with the raw interpreter on all
# 10,000 images (4-9 minutes each under emulation); the predict step already runs those images
# on every backend and compares each digit with x86-64's.
SUBSET = "test_runtime.py test_predict.py -k 'not (all_test_images and float32)'"


@dataclass
class Outcome:
    """Everything one row did, for the summary."""

    row: Row
    suite: str = ""
    python: str = ""
    status: str = "ok"
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    tests: dict[str, Any] = field(default_factory=dict)

    def fail(self, note: str) -> None:
        self.status = "failed"
        self.notes.append(note)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, text=True, capture_output=True, **kw)


def tail(text: str, lines: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# ---------------------------------------------------------------- setup on the host


def build_wheel(work: Path) -> Path:
    dist = work / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    proc = run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)]
    )
    wheels = sorted(dist.glob("edge_mnist-*.whl"))
    if proc.returncode or not wheels:
        sys.exit(f"building the project's wheel failed:\n{tail(proc.stderr)}")
    return wheels[0]


def host_venv(work: Path, wheel: Path) -> Path:
    """The host's reference: the same wheel with every interpreter (numpy < 2 for tflite-runtime)."""
    venv = work / "host-venv"
    if not (venv / "bin" / "edge-mnist").exists():
        run([sys.executable, "-m", "venv", str(venv)], check=True)
    proc = run(
        [str(venv / "bin/pip"), "install", "-q", "--force-reinstall", "--no-deps", str(wheel)]
    )
    proc = run([str(venv / "bin/pip"), "install", "-q", f"{wheel}[litert,onnx,tflite]", "numpy<2"])
    if proc.returncode:
        sys.exit(f"installing the host reference failed:\n{tail(proc.stderr)}")
    return venv


def predict_cmd(model: str, backend: str, models: str, data: str) -> list[str]:
    return [
        "edge-mnist",
        "predict",
        f"{models}/{model}",
        f"{data}/{IDX_IMAGES}",
        "--labels",
        f"{data}/{IDX_LABELS}",
        "--backend",
        backend,
        "--json",
    ]


def parse_predict(stdout: str) -> tuple[list[int], float, str]:
    """Digits, accuracy and backend version from 'predict --labels --json'."""
    report = json.loads(stdout)
    digits = [int(i["digit"]) for i in report["items"]]
    model = report.get("model", {})
    return digits, float(report["accuracy"]), str(model.get("backend_version", ""))


def host_reference(venv: Path, artifacts: Path, data: Path, pairs: set[tuple[str, str]]) -> dict:
    ref: dict[tuple[str, str], Any] = {}
    for backend, model in sorted(pairs):
        cmd = predict_cmd(model, backend, str(artifacts), str(data))
        cmd[0] = str(venv / "bin/edge-mnist")
        proc = run(cmd)
        if proc.returncode:
            ref[backend, model] = tail(proc.stderr or proc.stdout, 3)
            log(f"host {backend} {model}: unavailable ({ref[backend, model]})")
            continue
        ref[backend, model] = parse_predict(proc.stdout)
        log(f"host {backend} {model}: accuracy {ref[backend, model][1]:.2%}")
    return ref


def pip_download(row: Row, suite: str, wheel: Path, cache: Path) -> Path:
    """Wheels for the row's platform, fetched on the host; reused while the request is unchanged."""
    py = PYTHON[suite]
    reqs = [
        r.replace("edge-mnist", f"{wheel}", 1) if r.startswith("edge-mnist") else r for r in row.pip
    ]
    if not row.pypi_binaries:
        # Debian provides numpy and Pillow: fetch only the pure-Python rest (typer, rich, pytest),
        # with the project's own requirements on them.
        reqs = [
            *pure_requirements(),
            *[r for r in row.pip if not r.startswith("edge-mnist")],
        ]
    # The project's wheel is rebuilt on every run: its requirements, not its path, name the set.
    request = [r for r in reqs if r != str(wheel)] + [project_table()]
    key = hashlib.sha256(json.dumps([row.arch, py, GLIBC[suite], request]).encode()).hexdigest()
    out = cache / "wheels" / f"{row.arch}-cp{py.replace('.', '')}-{key[:12]}"
    if (out / ".complete").exists():
        return out
    arch = PIP_PLATFORM[row.arch]
    plats = [f"manylinux_2_{v}_{arch}" for v in range(17, GLIBC[suite] + 1)]
    plats += [f"manylinux2014_{arch}", f"linux_{arch}"]
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", str(out)]
    cmd += [a for p in plats for a in ("--platform", p)]
    cmd += ["--python-version", py, "--implementation", "cp", *reqs]
    proc = run(cmd)
    if proc.returncode:
        raise StageError(f"pip download for {row.arch} Python {py} failed: {tail(proc.stderr, 3)}")
    for stale in out.glob("edge_mnist-*.whl"):
        stale.unlink()  # the project's wheel comes fresh from dist/ on every run
    (out / ".complete").write_text(json.dumps(request) + "\n")
    return out


def project_table() -> dict[str, Any]:
    """pyproject's dependencies and extras: what the project's wheel asks pip for."""
    import tomllib  # Python 3.11+, which every CI host here has; read only by this step

    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    return {k: project.get(k) for k in ("dependencies", "optional-dependencies")}


def pure_requirements() -> list[str]:
    """The project's runtime dependencies other than numpy and Pillow, as pyproject states them."""
    deps = project_table()["dependencies"]
    return [d for d in deps if not re.match(r"(numpy|pillow)\b", d, re.IGNORECASE)]


class StageError(Exception):
    """A row step that cannot go on."""


# ---------------------------------------------------------------- the root filesystem


def rootfs(row: Row, work: Path, cache: Path, outcome: Outcome) -> Path:
    """debootstrap's first stage (download, verify, unpack the essential set), then every other
    .deb unpacked on the host: no maintainer scripts run, which qemu does not need and which
    would take minutes per row under emulation."""
    target = work / "rootfs" / row.key
    marker = target / ".edge-mnist-rootfs"
    if marker.exists() and os.environ.get("EDGE_MNIST_EMULATE_REUSE") == "1":
        # A developer's rerun: keep the unpacked system, start again from a fresh venv.
        done = json.loads(marker.read_text())
        if done["arch"] == row.arch and done["debs"] == row.debs and done["suite"] in row.suites:
            shutil.rmtree(target / "opt/venv", ignore_errors=True)
            outcome.suite = done["suite"]
            outcome.notes.append("root filesystem reused from an earlier run")
            return target
    for suite in row.suites:
        shutil.rmtree(target, ignore_errors=True)
        debs = cache / "debs" / f"{suite}-{row.arch}"
        debs.mkdir(parents=True, exist_ok=True)
        cmd = ["debootstrap", "--foreign", "--variant=minbase", f"--arch={row.arch}"]
        cmd += [f"--cache-dir={debs}", f"--include={row.debs}", suite, str(target), MIRROR]
        proc = run(cmd)
        if proc.returncode == 0:
            outcome.suite = suite
            break
        reason = tail(proc.stdout + proc.stderr, 2).replace("\n", " ")
        outcome.notes.append(f"{suite} {row.arch}: debootstrap failed ({reason})")
        log(f"{row.key}: {suite} failed: {reason}")
    else:
        raise StageError("no Debian release of the list could be bootstrapped")
    archives = sorted((target / "var/cache/apt/archives").glob("*.deb"))
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for proc in pool.map(lambda d: run(["dpkg-deb", "-x", str(d), str(target)]), archives):
            if proc.returncode:
                raise StageError(f"unpacking a .deb failed: {tail(proc.stderr, 2)}")
    for deb in archives:
        deb.unlink()
    lib = next((target / "usr/lib").glob("*-linux-gnueabi*"), None) or next(
        (target / "usr/lib").glob("aarch64-linux-gnu")
    )
    for name in ("blas", "lapack"):
        impl = lib / name / f"lib{name}.so.3"
        link = lib / f"lib{name}.so.3"
        if impl.exists() and not link.exists():
            link.symlink_to(f"{name}/lib{name}.so.3")
    # ca-certificates' postinst would build the bundle that Debian's pip loads at start (its
    # certifi is unbundled); no maintainer scripts ran, so the host's Debian bundle stands in.
    bundle = target / "etc/ssl/certs/ca-certificates.crt"
    if not bundle.exists() and Path("/etc/ssl/certs/ca-certificates.crt").exists():
        bundle.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy("/etc/ssl/certs/ca-certificates.crt", bundle)
    for d in ("proc", "dev", "sys", "tmp", "opt/in", "opt/out"):
        (target / d).mkdir(parents=True, exist_ok=True)
    (target / "tmp").chmod(0o1777)
    marker.write_text(json.dumps({"suite": outcome.suite, "arch": row.arch, "debs": row.debs}))
    return target


def guest(
    target: Path, row: Row, binds: dict[str, Path], argv: list[str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run argv inside the root filesystem, in a private mount namespace (the mounts vanish
    with it), with the row's CPU and a Raspberry Pi /proc/cpuinfo: qemu 7.2 otherwise shows the
    host's x86 one, on which the cpuinfo library in onnxruntime and LiteRT segfaults."""
    mounts = [
        f"mount -t proc proc {target}/proc",
        f"mount --bind {HERE / 'cpuinfo' / row.cpuinfo} {target}/proc/cpuinfo",
        f"mount --rbind /dev {target}/dev",
        f"mount -t sysfs sysfs {target}/sys",
    ]
    for dst, src in binds.items():
        (target / dst.lstrip("/")).mkdir(parents=True, exist_ok=True)
        mounts.append(f"mount --bind {src} {target}{dst}")
    env = {
        "PATH": "/opt/venv/bin:/usr/bin:/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "QEMU_CPU": row.cpu,
        "EDGE_MNIST_DATA": "/opt/in/mnist",
        "EDGE_MNIST_TEST_ARTIFACTS": "/opt/in/artifacts",
        "CI": "true",
        "COLUMNS": "120",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    script = " && ".join(mounts) + ' && exec chroot "$0" env -i "$@"'
    pairs = [f"{k}={v}" for k, v in env.items()]
    cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(target)]
    try:
        return run([*cmd, *pairs, *argv], timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return subprocess.CompletedProcess(argv, 124, out, f"timed out after {timeout:.0f} s")


# ---------------------------------------------------------------- one row


def install(target: Path, row: Row, binds: dict[str, Path], outcome: Outcome) -> None:
    """What a Pi user does: a venv and pip, from wheels fetched beforehand (no index here)."""
    # The venv gets no pip of its own: ensurepip would byte-compile pip under emulation for
    # minutes. Debian's pip wheel (python3-pip-whl) runs the install instead, the same pip.
    venv = ["python3", "-m", "venv", "--without-pip"]
    if not row.pypi_binaries:
        venv.append("--system-site-packages")  # Debian's numpy, Pillow and jsonschema
    proc = guest(target, row, binds, [*venv, "/opt/venv"], 600)
    if proc.returncode:
        raise StageError(f"python3 -m venv failed: {tail(proc.stderr, 3)}")
    wheel = next(Path(binds["/opt/in/dist"]).glob("edge_mnist-*.whl")).name
    reqs = [r.replace("edge-mnist", f"/opt/in/dist/{wheel}", 1) for r in row.pip]
    pip = "set -- /usr/share/python-wheels/pip-*.whl && /opt/venv/bin/python $1/pip install -q --no-compile"
    pip += " --no-index --find-links /opt/in/wheels " + " ".join(f"'{r}'" for r in reqs)
    proc = guest(target, row, binds, ["sh", "-c", pip], 1200)
    if proc.returncode:
        raise StageError(f"pip install failed: {tail(proc.stderr, 4)}")
    probe = (
        "import sys, importlib.util, numpy, PIL\n"
        "assert importlib.util.find_spec('tensorflow') is None, 'TensorFlow is installed'\n"
        "print(sys.version.split()[0], numpy.__version__, PIL.__version__)"
    )
    proc = guest(target, row, binds, ["python", "-c", probe], 300)
    if proc.returncode:
        raise StageError(f"the environment is not right: {tail(proc.stderr, 3)}")
    outcome.python, np_version, pil_version = proc.stdout.split()
    outcome.notes.append(f"Python {outcome.python}, numpy {np_version}, Pillow {pil_version}")


def step(outcome: Outcome, name: str, proc: subprocess.CompletedProcess[str], t0: float) -> bool:
    ok = proc.returncode == 0
    detail = tail(proc.stdout if ok else proc.stderr or proc.stdout, 2)
    outcome.steps.append(
        {
            "name": name,
            "ok": ok,
            "exit": proc.returncode,
            "seconds": round(time.monotonic() - t0, 1),
            "detail": detail,
        }
    )
    log(
        f"{outcome.row.key}: {name}: {'ok' if ok else f'exit {proc.returncode}'} ({time.monotonic() - t0:.0f} s)"
    )
    return ok


def checks(target: Path, row: Row, binds: dict[str, Path], ref: dict, outcome: Outcome) -> None:
    t0 = time.monotonic()
    if not step(
        outcome,
        "edge-mnist --version",
        guest(target, row, binds, ["edge-mnist", "--version"], 300),
        t0,
    ):
        outcome.fail("edge-mnist --version failed")
    for model in MODELS:
        backends = [b for b in row.backends if model.endswith(FORMATS[b])]
        t0 = time.monotonic()
        argv = ["edge-mnist", "info", f"/opt/in/artifacts/{model}", "--json"]
        if backends:
            proc = guest(target, row, binds, [*argv, "--backend", backends[0]], 300)
            if not step(outcome, f"info {model} --backend {backends[0]}", proc, t0):
                outcome.fail(f"info {model} failed")
            continue
        # No interpreter for this format on the row: a clear error and exit 2 are the expected
        # behaviour, never a traceback.
        proc = guest(target, row, binds, argv, 300)
        good = (
            proc.returncode == 2
            and "no interpreter" in proc.stderr
            and "Traceback" not in proc.stderr
        )
        step(outcome, f"info {model} (no interpreter: exit 2 expected)", proc, t0)
        outcome.steps[-1]["ok"] = good
        if not good:
            outcome.fail(f"info {model} without an interpreter: exit {proc.returncode}")
    for backend in row.backends:
        for model in MODELS:
            if model.endswith(FORMATS[backend]):
                compare(target, row, binds, ref, outcome, backend, model)
    t0 = time.monotonic()
    first = row.backends[0]
    bench = ["edge-mnist", "bench", "/opt/in/artifacts/model_int8.tflite", "-b", first]
    bench += ["--batch", "1", "--runs", "20", "--warmup", "5", "--quiet"]
    bench += ["--json", "/opt/out/bench.json"]
    if not step(outcome, f"bench --runs 20 ({first})", guest(target, row, binds, bench, 600), t0):
        outcome.fail("bench smoke run failed")
    device_tests(target, row, binds, outcome)


def compare(
    target: Path,
    row: Row,
    binds: dict[str, Path],
    ref: dict,
    outcome: Outcome,
    backend: str,
    model: str,
) -> None:
    result: dict[str, Any] = {"backend": backend, "model": model}
    outcome.results.append(result)
    t0 = time.monotonic()
    cmd = predict_cmd(model, backend, "/opt/in/artifacts", "/opt/in/mnist")
    proc = guest(target, row, binds, cmd, 900)
    step(outcome, f"predict {model} --backend {backend}", proc, t0)
    if proc.returncode:
        result.update(status="failed", detail=tail(proc.stderr, 2))
        outcome.fail(f"predict {model} on {backend}: exit {proc.returncode}")
        return
    digits, accuracy, version = parse_predict(proc.stdout)
    result.update(accuracy=accuracy, backend_version=version, count=len(digits))
    host = ref.get((backend, model))
    if not isinstance(host, tuple):
        result.update(status="no host reference", detail=str(host))
        return
    same = sum(a == b for a, b in zip(digits, host[0], strict=True))
    host_accuracy = host[1]
    result.update(
        agreement=same / len(digits), differ=len(digits) - same, host_accuracy=host_accuracy
    )
    if same == len(digits):
        result["status"] = "identical"
    elif backend in EXACT:
        result["status"] = "differs"
        outcome.fail(f"{backend} {model}: {len(digits) - same} digits differ from the host")
    else:
        result["status"] = "reported"


def device_tests(target: Path, row: Row, binds: dict[str, Path], outcome: Outcome) -> None:
    """The device-marked tests against the host-built models (SUBSET unless
    EDGE_MNIST_EMULATE_TESTS names others, or 'all')."""
    t0 = time.monotonic()
    chosen = os.environ.get("EDGE_MNIST_EMULATE_TESTS", "")
    select = "." if chosen == "all" else chosen or SUBSET
    pytest = "pytest -m device -p no:cacheprovider -q -rfE --tb=short --durations=5"
    pytest += f" --rootdir /opt/in/src -c /opt/in/src/pyproject.toml {select}"
    # Rows without any interpreter package: a test that fails only for want of one (an ONNX
    # model, a raw-interpreter comparison) is reported as skipped, as in CI's floors stage.
    no_interpreter = "EDGE_MNIST_TEST_NO_INTERPRETER=1 " if row.backends == ("numpy",) else ""
    argv = ["sh", "-c", f"cd /opt/in/src/tests && {no_interpreter}exec {pytest}"]
    proc = guest(
        target, row, binds, argv, float(os.environ.get("EDGE_MNIST_EMULATE_TEST_TIMEOUT", 900))
    )
    lines = [x for x in proc.stdout.strip().splitlines() if re.search(r"\d+ (passed|failed)", x)]
    summary = lines[-1].strip("= ") if lines else tail(proc.stdout + proc.stderr, 1)
    counts = {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|skipped|errors?)", summary)}
    slowest = re.findall(r"^([0-9.]+)s (?:call|setup|teardown) +(\S+)$", proc.stdout, re.M)
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", proc.stdout, re.M)
    outcome.tests = {
        "selection": select,
        "summary": summary,
        "seconds": round(time.monotonic() - t0, 1),
        **counts,
        "failed_tests": failed,
        "slowest": [{"test": t, "seconds": float(sec)} for sec, t in slowest],
    }
    step(outcome, f"pytest -m device {select}", proc, t0)
    if proc.returncode:
        outcome.fail(f"device tests: {summary}")


# ---------------------------------------------------------------- the stage


def prepare_row(
    row: Row, args: argparse.Namespace, wheel: Path
) -> tuple[Outcome, Path | None, Path | None]:
    """Root filesystem and wheels: mostly downloads, so all rows prepare while the host works."""
    outcome = Outcome(row)
    try:
        t0 = time.monotonic()
        target = rootfs(row, args.work, args.cache, outcome)
        outcome.seconds["rootfs"] = round(time.monotonic() - t0, 1)
        log(
            f"{row.key}: root filesystem ({outcome.suite} {row.arch}) in {outcome.seconds['rootfs']:.0f} s"
        )
        t0 = time.monotonic()
        wheels = pip_download(row, outcome.suite, wheel, args.cache)
        outcome.seconds["wheels"] = round(time.monotonic() - t0, 1)
    except StageError as exc:
        outcome.fail(str(exc))
        log(f"{row.key}: FAILED: {exc}")
        return outcome, None, None
    return outcome, target, wheels


def run_row(
    prepared: tuple[Outcome, Path | None, Path | None],
    args: argparse.Namespace,
    wheel: Path,
    ref: dict,
) -> Outcome:
    """Install and check one row under emulation."""
    outcome, target, wheels = prepared
    row = outcome.row
    if target is None or wheels is None:
        return outcome
    binds = {
        "/opt/in/artifacts": args.artifacts,
        "/opt/in/mnist": args.data,
        "/opt/in/dist": wheel.parent,
        "/opt/in/wheels": wheels,
        "/opt/in/src": args.work / "src",
        "/opt/out": args.work / "out" / row.key,
    }
    binds["/opt/out"].mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.monotonic()
        install(target, row, binds, outcome)
        outcome.seconds["install"] = round(time.monotonic() - t0, 1)
        log(f"{row.key}: installed in {outcome.seconds['install']:.0f} s ({outcome.notes[-1]})")
        t0 = time.monotonic()
        checks(target, row, binds, ref, outcome)
        outcome.seconds["checks"] = round(time.monotonic() - t0, 1)
    except StageError as exc:
        outcome.fail(str(exc))
        log(f"{row.key}: FAILED: {exc}")
    outcome.seconds["emulated"] = round(
        sum(outcome.seconds.get(k, 0) for k in ("install", "checks")), 1
    )
    if outcome.status == "ok" and any(r.get("status") == "pending" for r in outcome.results):
        outcome.status = "partial"
    return outcome


def summary_rows(outcomes: list[Outcome]) -> list[list[str]]:
    lines = []
    for o in outcomes:
        for r in o.results:
            acc = f"{r['accuracy']:.2%}" if "accuracy" in r else "-"
            agree = f"{r['agreement']:.2%} ({r['differ']} differ)" if "agreement" in r else "-"
            lines.append([o.row.key, r["backend"], r["model"], acc, agree, r.get("status", "")])
        if not o.results:
            lines.append([o.row.key, "-", "-", "-", "-", o.status + ": " + "; ".join(o.notes[-1:])])
    return lines


def print_table(outcomes: list[Outcome]) -> None:
    head = ["row", "backend", "model", "accuracy", "agreement with host", "status"]
    body = summary_rows(outcomes)
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    for line in [head, ["-" * w for w in widths], *body]:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    print()
    for o in outcomes:
        secs = ", ".join(f"{k} {v:.0f} s" for k, v in o.seconds.items())
        print(f"{o.row.key:15} {o.status:8} {secs}")
        for note in o.notes:
            print(f"{'':15} {note}")


def write_summary(
    out: Path,
    outcomes: list[Outcome],
    some_rows: bool,
    load: tuple[float, ...],
    host_seconds: float,
    total: float,
) -> None:
    qemu = run(["qemu-aarch64-static", "--version"]).stdout.splitlines()[0]
    report: dict[str, Any] = {
        "schema": 1,
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": {
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "load_at_start": [round(x, 2) for x in load],
            "load_at_end": [round(x, 2) for x in os.getloadavg()],
            "qemu": qemu,
            "seconds": host_seconds,
        },
        "total_seconds": total,
        "rows": [
            {
                "key": o.row.key,
                "platform": o.row.platform,
                "debian": f"{o.suite or '/'.join(o.row.suites)} {o.row.arch}",
                "python": o.python,
                "cpu": o.row.cpu,
                "backends": list(o.row.backends),
                "status": o.status,
                "notes": o.notes,
                "seconds": o.seconds,
                "results": o.results,
                "tests": o.tests,
                "steps": o.steps,
            }
            for o in sorted(outcomes, key=lambda o: ROWS.index(o.row))
        ],
    }
    if some_rows and out.exists():
        # A run of some rows updates those rows in an existing summary and keeps the others.
        kept = {r["key"]: r for r in json.loads(out.read_text())["rows"]}
        kept.update({r["key"]: r for r in report["rows"]})
        report["rows"] = [kept[r.key] for r in ROWS if r.key in kept]
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(out)


def find_one(data: Path, stem: str) -> str:
    found = sorted(glob.glob(str(data / f"{stem}*")))
    if not found:
        sys.exit(f"{data}: no {stem}[.gz]: set EDGE_MNIST_DATA to the MNIST folder")
    return Path(found[0]).name


IDX_IMAGES = "t10k-images-idx3-ubyte.gz"
IDX_LABELS = "t10k-labels-idx1-ubyte.gz"


def main() -> int:
    global IDX_IMAGES, IDX_LABELS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "rows", nargs="*", help=f"rows to run (default all): {', '.join(r.key for r in ROWS)}"
    )
    parser.add_argument("--artifacts", type=Path, default=ROOT / "artifacts")
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("EDGE_MNIST_DATA", ROOT.parent / "shared/mnist")),
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("EDGE_MNIST_CI_CACHE", ROOT / ".ci/cache")),
    )
    parser.add_argument("--jobs", type=int, default=2, help="rows emulated at the same time")
    parser.add_argument("--work", type=Path, default=ROOT / "build/emulation")
    parser.add_argument(
        "--json", type=Path, default=None, help="summary JSON (default: ARTIFACTS/emulation.json)"
    )
    args = parser.parse_args()
    unknown = set(args.rows) - {r.key for r in ROWS}
    if unknown:
        parser.error(f"unknown rows {sorted(unknown)}")
    rows = [r for r in ROWS if not args.rows or r.key in args.rows]
    args.artifacts, args.data, args.cache, args.work = (
        p.resolve() for p in (args.artifacts, args.data, args.cache, args.work)
    )
    missing = [m for m in MODELS if not (args.artifacts / m).is_file()]
    if missing:
        sys.exit(
            f"{args.artifacts} lacks {missing}: run 'edge-mnist pipeline --out {args.artifacts}' first"
        )
    IDX_IMAGES, IDX_LABELS = (
        find_one(args.data, "t10k-images-idx3-ubyte"),
        find_one(args.data, "t10k-labels-idx1-ubyte"),
    )
    started = time.monotonic()
    load = os.getloadavg()
    args.work.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(args.work / "src", ignore_errors=True)
    shutil.copytree(
        ROOT / "tests", args.work / "src/tests", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", args.work / "src/pyproject.toml")
    log("building the wheel and the host reference")
    wheel = build_wheel(args.work)
    # Root filesystems and wheels are mostly downloads: they proceed while the host works.
    prep = concurrent.futures.ThreadPoolExecutor(2)
    # The two longest rows start first, one per lane (on two cores: bookworm-arm64 about 9.5
    # minutes with four backends, armel about 11 with software float), so the lanes end together.
    rows.sort(key=lambda r: r.key not in LONGEST)
    prepared = [prep.submit(prepare_row, row, args, wheel) for row in rows]
    venv = host_venv(args.work, wheel)
    pairs = {(b, m) for r in rows for b in r.backends for m in MODELS if m.endswith(FORMATS[b])}
    ref = host_reference(venv, args.artifacts, args.data, pairs)
    host_seconds = round(time.monotonic() - started, 1)
    out = args.json or args.artifacts / "emulation.json"
    outcomes: list[Outcome] = []
    # Two rows at a time: each emulated process is mostly one busy thread. The summary is
    # rewritten as each row ends, so a stopped run still leaves what it found.
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        done = [pool.submit(lambda f: run_row(f.result(), args, wheel, ref), f) for f in prepared]
        for d in concurrent.futures.as_completed(done):
            outcomes.append(d.result())
            total = round(time.monotonic() - started, 1)
            write_summary(out, outcomes, bool(args.rows), load, host_seconds, total)
    prep.shutdown()
    outcomes.sort(key=lambda o: ROWS.index(o.row))
    print()
    print_table(outcomes)
    print(
        f"\nemulation stage: {total:.0f} s in all (host reference {host_seconds:.0f} s); load {load[0]:.1f} -> {os.getloadavg()[0]:.1f}; summary in {out}"
    )
    return 1 if any(o.status == "failed" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
