"""The checks on an installed row: version, doctor, info, verify, predict on every backend, bench,
device tests."""

from __future__ import annotations

import time
from typing import Any

from . import pytest_summary
from .digits import Reference, agreement, parse_predict, predict_cmd
from .guest import Guest
from .names import INT8_TFLITE, MODELS
from .outcome import Outcome
from .proc import since, tail
from .rows import models_for
from .settings import Settings


def checks(guest: Guest, settings: Settings, ref: Reference, outcome: Outcome) -> None:
    """Every check, in order; each failure is noted in outcome and the next check still runs."""
    version(guest, outcome)
    doctor(guest, outcome)
    for model in MODELS:
        info(guest, outcome, model)
    for model in MODELS:
        if any(model in models_for(b) for b in guest.row.backends):
            verify(guest, outcome, model)
    for backend in guest.row.backends:
        for model in models_for(backend):
            compare(guest, settings, ref, outcome, backend, model)
    bench(guest, outcome)
    device_tests(guest, settings, outcome)


def version(guest: Guest, outcome: Outcome) -> None:
    t0 = time.monotonic()
    proc = guest.run(["edge-mnist", "--version"], 300)
    if not outcome.step("edge-mnist --version", proc, t0):
        outcome.fail("edge-mnist --version failed")


def doctor(guest: Guest, outcome: Outcome) -> None:
    """'doctor --json -': what the row's machine and backends look like to a user (exit 0)."""
    t0 = time.monotonic()
    proc = guest.run(["edge-mnist", "doctor", "--json", "-"], 600)
    if not outcome.step("doctor", proc, t0):
        outcome.fail("edge-mnist doctor failed")


def verify(guest: Guest, outcome: Outcome, model: str) -> None:
    """'verify': the golden vectors inside the model through every backend the row installs,
    each against the interpreter arithmetic it must reproduce (exit 1 names a mismatch)."""
    t0 = time.monotonic()
    proc = guest.run(["edge-mnist", "verify", f"/opt/in/artifacts/{model}"], 600)
    if not outcome.step(f"verify {model}", proc, t0):
        outcome.fail(f"verify {model}: exit {proc.returncode}")


def info(guest: Guest, outcome: Outcome, model: str) -> None:
    """'info' with the row's first backend for the model's format; without one, a clear error."""
    backends = [b for b in guest.row.backends if model in models_for(b)]
    t0 = time.monotonic()
    argv = ["edge-mnist", "info", f"/opt/in/artifacts/{model}", "--json", "-"]
    if backends:
        proc = guest.run([*argv, "--backend", backends[0]], 300)
        if not outcome.step(f"info {model} --backend {backends[0]}", proc, t0):
            outcome.fail(f"info {model} failed")
        return
    # No interpreter for this format on the row: a clear error and exit 2 are the expected
    # behaviour, never a traceback.
    proc = guest.run(argv, 300)
    good = (
        proc.returncode == 2 and "no interpreter" in proc.stderr and "Traceback" not in proc.stderr
    )
    outcome.step(f"info {model} (no interpreter: exit 2 expected)", proc, t0)
    outcome.steps[-1]["ok"] = good
    if not good:
        outcome.fail(f"info {model} without an interpreter: exit {proc.returncode}")


def compare(
    guest: Guest,
    settings: Settings,
    ref: Reference,
    outcome: Outcome,
    backend: str,
    model: str,
) -> None:
    """The test set on one backend and model, every digit compared with the host's."""
    result: dict[str, Any] = {"backend": backend, "model": model}
    outcome.results.append(result)
    t0 = time.monotonic()
    cmd = predict_cmd(
        model, backend, "/opt/in/artifacts", "/opt/in/mnist", settings.images, settings.labels
    )
    proc = guest.run(cmd, 900)
    outcome.step(f"predict {model} --backend {backend}", proc, t0)
    if proc.returncode:
        result.update(status="failed", detail=tail(proc.stderr, 2))
        outcome.fail(f"predict {model} on {backend}: exit {proc.returncode}")
        return
    prediction = parse_predict(proc.stdout)
    result.update(
        accuracy=prediction.accuracy,
        backend_version=prediction.backend_version,
        count=len(prediction.digits),
    )
    host = ref.get((backend, model))
    if not isinstance(host, tuple):
        result.update(status="no host reference", detail=str(host))
        return
    fields, failure = agreement(backend, prediction.digits, host)
    result.update(fields)
    if failure:
        outcome.fail(f"{backend} {model}: {failure}")


def bench(guest: Guest, outcome: Outcome) -> None:
    """A smoke run of 'bench' on the row's first backend."""
    t0 = time.monotonic()
    first = guest.row.backends[0]
    argv = ["edge-mnist", "bench", f"/opt/in/artifacts/{INT8_TFLITE}", "-b", first]
    # --board: each row is its own board in the fleet table ('bench table' over every row).
    argv += ["--batch", "1", "--runs", "20", "--warmup", "5", "--quiet", "--board", guest.row.key]
    argv += ["--json", "/opt/out/bench.json"]
    if not outcome.step(f"bench --runs 20 ({first})", guest.run(argv, 600), t0):
        outcome.fail("bench smoke run failed")


def device_tests(guest: Guest, settings: Settings, outcome: Outcome) -> None:
    """The device-marked tests against the host-built models (settings.tests selects them)."""
    t0 = time.monotonic()
    select = settings.tests
    pytest = "pytest -m device -p no:cacheprovider -q -rfE --tb=short --durations=5"
    pytest += f" --rootdir /opt/in/src -c /opt/in/src/pyproject.toml {select}"
    # Rows without any interpreter package skip the tests marked 'interpreter' by that marker.
    argv = ["sh", "-c", f"cd /opt/in/src/tests && exec {pytest}"]
    proc = guest.run(argv, settings.test_timeout)
    run = pytest_summary.parse(proc.stdout, proc.stderr)
    outcome.tests = {
        "selection": select,
        "summary": run.summary,
        "seconds": since(t0),
        **run.counts,
        "failed_tests": run.failed,
        "slowest": run.slowest,
    }
    outcome.step(f"pytest -m device {select}", proc, t0)
    if proc.returncode:
        outcome.fail(f"device tests: {run.summary}")
