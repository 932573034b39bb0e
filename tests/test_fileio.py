"""Tests for writing files under faults: killed writers, a full disk, concurrent manifest
updates and JSON that is nested too deeply. Real processes, real signals, a real tmpfs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from edge_mnist.fileio import write_bytes
from edge_mnist.manifest import LOCK_FILE, updating_manifest
from edge_mnist.runtime.artifacts import MANIFEST_FILE, read_manifest
from edge_mnist.runtime.atomic import TEMP_MARK, atomic_path, remove_stale_temporaries
from edge_mnist.runtime.errors import InvalidInputError, OutputError
from edge_mnist.runtime.jsonfile import read_json

# Starts an atomic write of a big payload and reports the temporary file once bytes are in it.
# The signals get their default action first: a test run under nohup would pass SIGHUP's "ignore"
# down to the child, which would then never die.
WRITER = textwrap.dedent(
    """
    import signal, sys, time
    from pathlib import Path
    from edge_mnist.runtime.atomic import atomic_path

    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)

    with atomic_path(Path(sys.argv[1]), suffix=".tflite") as tmp:
        with tmp.open("wb") as f:
            f.write(b"\\x00" * (4 << 20))
            f.flush()
            print(tmp, flush=True)
            for _ in range(6000):  # keeps writing until it is killed
                f.write(b"\\x01" * 4096)
                time.sleep(0.01)
    """
)


def killed_writer(target: Path, sig: int = signal.SIGKILL) -> Path:
    """Run WRITER on ``target``, kill it mid-write with ``sig``; return the temp file it left."""
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    tmp = Path(child.stdout.readline().strip())
    child.send_signal(sig)
    assert child.wait(timeout=30) == -sig
    assert tmp.is_file() and tmp.stat().st_size >= 4 << 20
    assert tmp.name.startswith(f".{target.name}{TEMP_MARK}{child.pid}-")
    assert tmp.name.endswith(".tflite")
    return tmp


@pytest.mark.device
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP])
def test_a_killed_writer_leaves_only_a_temp_file_that_the_next_run_removes(
    tmp_path: Path, sig: int
) -> None:
    target = tmp_path / "model_int8.tflite"
    stale = killed_writer(target, sig)
    assert not target.exists()
    # A writer that is still alive (this process) and files that are not ours stay.
    with atomic_path(tmp_path / "model_float32.onnx", suffix=".onnx") as live:
        live.write_bytes(b"in progress")
        legacy = tmp_path / ".model_int8.tflite.abcd1234.tflite"
        legacy.write_bytes(b"not in our pattern")
        keep = tmp_path / "model_int8.onnx"
        keep.write_bytes(b"a model")
        assert remove_stale_temporaries(tmp_path) == [stale]
        assert not stale.exists()
        assert live.is_file() and legacy.is_file() and keep.is_file()
    assert (tmp_path / "model_float32.onnx").read_bytes() == b"in progress"


@pytest.mark.device
def test_an_old_temp_file_is_stale_even_if_its_pid_is_alive(tmp_path: Path) -> None:
    old = tmp_path / f".model.onnx{TEMP_MARK}{os.getpid()}-x1y2z3.onnx"
    old.write_bytes(b"old")
    fresh = tmp_path / f".model.onnx{TEMP_MARK}{os.getpid()}-a1b2c3.onnx"
    fresh.write_bytes(b"fresh")
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))
    assert remove_stale_temporaries(tmp_path) == [old]
    assert fresh.is_file()
    assert remove_stale_temporaries(tmp_path, max_age_seconds=0) == [fresh]


@pytest.mark.slow
def test_export_removes_the_temp_file_a_killed_run_left(
    artifacts: Path, mnist: Any, tmp_path: Path
) -> None:
    pytest.importorskip("tensorflow")
    from edge_mnist.export import export

    out = tmp_path / "out"
    out.mkdir()
    stale = killed_writer(out / "model_float32.tflite")
    export(artifacts / "model.keras", mnist, out, fmt="tflite", quantize="none")
    assert not stale.exists()
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_FILE, "model_float32.tflite"]


# ---------------------------------------------------------------- a full disk


@pytest.mark.device
def test_a_full_disk_is_named_as_such(tiny_tmpfs: Path) -> None:
    target = tiny_tmpfs / "model_int8.tflite"
    with pytest.raises(OutputError, match=r"no space left on the device at .*small-disk") as info:
        write_bytes(target, b"\x00" * (1 << 20))
    assert info.value.fix == "free space or choose another folder."
    assert "writable" not in str(info.value)
    assert info.value.exit_code == 2
    assert list(tiny_tmpfs.iterdir()) == [], "the failed write left a file behind"


# ---------------------------------------------------------------- concurrent manifest updates

UPDATER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from edge_mnist.manifest import updating_manifest

    folder, tag = Path(sys.argv[1]), sys.argv[2]
    print("ready", flush=True)
    while not (folder.parent / "go").exists():  # start together, so the updates overlap
        time.sleep(0.001)
    for i in range(int(sys.argv[3])):
        with updating_manifest(folder) as manifest:
            manifest["artifacts"][f"{tag}-{i}"] = {"by": tag}
    """
)


@pytest.mark.device
def test_concurrent_manifest_updates_keep_every_entry(tmp_path: Path) -> None:
    rounds = 200
    folder = tmp_path / "artifacts"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", UPDATER, str(folder), tag, str(rounds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b", "c")
    ]
    for child in children:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
    (tmp_path / "go").touch()
    assert [c.wait(timeout=120) for c in children] == [0, 0, 0]
    entries = read_manifest(folder)["artifacts"]
    assert len(entries) == 3 * rounds
    assert {e["by"] for e in entries.values()} == {"a", "b", "c"}
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST_FILE]  # no lock file left


@pytest.mark.device
def test_a_failed_update_writes_nothing(tmp_path: Path) -> None:
    with updating_manifest(tmp_path) as manifest:
        manifest["artifacts"]["kept"] = {}
    with pytest.raises(RuntimeError, match="stop"), updating_manifest(tmp_path) as manifest:
        manifest["artifacts"]["lost"] = {}
        raise RuntimeError("stop")
    assert list(read_manifest(tmp_path)["artifacts"]) == ["kept"]
    assert not (tmp_path / LOCK_FILE).exists()


# ---------------------------------------------------------------- JSON that cannot be read


@pytest.mark.device
@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),
        (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "JSON nested too deeply"),
        (b"{ not json", "not valid JSON: Expecting property name"),
        (b'{"a": "\xff\xfe"}', "not UTF-8 text"),
    ],
    ids=["deep-list", "deep-object", "garbled", "not-utf8"],
)
def test_read_json_names_what_is_wrong(tmp_path: Path, payload: bytes, reason: str) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(payload)
    with pytest.raises(InvalidInputError, match=f"cannot read the report \\({reason}") as info:
        read_json(path, what="the report", fix="write it again.")
    assert info.value.fix == "write it again." and info.value.exit_code == 2


@pytest.mark.device
def test_read_json_refuses_a_file_too_large_and_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps(list(range(1000))))
    assert read_json(path)[-1] == 999
    with pytest.raises(InvalidInputError, match=r"big.json: cannot read .*more than the 100"):
        read_json(path, max_bytes=100)
    with pytest.raises(InvalidInputError, match=r"missing.json: cannot read .*No such file"):
        read_json(tmp_path / "missing.json")


@pytest.mark.device
def test_a_deeply_nested_manifest_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_FILE).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(
        InvalidInputError, match=r"cannot read the manifest \(JSON nested too deeply\)"
    ):
        read_manifest(tmp_path)


@pytest.mark.device
def test_one_json_writer_and_one_error_for_an_output_that_cannot_be_written(
    tmp_path: Path,
) -> None:
    from edge_mnist.fileio import ensure_dir
    from edge_mnist.runtime.jsonfile import write_json

    target = tmp_path / "new" / "report.json"
    write_json(target, {"µ": [1, 2]})
    assert target.read_bytes() == b'{\n  "\\u00b5": [\n    1,\n    2\n  ]\n}\n'
    assert read_json(target) == {"µ": [1, 2]}
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError, match=r"cannot write .*a-file/report.json"):
        write_json(blocker / "report.json", {})
    with pytest.raises(OutputError, match=r"cannot create the output folder .*a-file/out") as info:
        ensure_dir(blocker / "out")
    assert info.value.fix == "choose a writable folder with --out."
