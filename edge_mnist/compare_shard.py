"""Sweeps that split and join: 'compare --shard K/N' trains a deterministic K-th of the grid, and
'compare merge' joins the parts into the document one process would have written.

The grid is the ordered list of training configurations; shard K of N takes the configurations
at positions K-1, K-1+N, K-1+2N, ... (round robin, so that each shard gets a similar mix of
small and large architectures). Each part records what must match for a join to mean anything:
the grid itself (a fingerprint of every configuration and the edge options), the MNIST files'
checksums and the code versions. Parts are small JSON files: no shared state between jobs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from edge_mnist.errors import UsageError
from edge_mnist.runtime.jsonfile import read_json

SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
# Versions that change what a training or export produces.
CODE_DISTS = ("edge-mnist", "tensorflow", "tensorflow-cpu", "keras", "tf2onnx")


def parse_shard(text: str) -> tuple[int, int]:
    """'K/N' as (K, N), 1 <= K <= N."""
    m = SHARD.match(text)
    k, n = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    if not m or not 1 <= k <= n:
        raise UsageError(
            f"--shard {text!r} is not K/N with 1 <= K <= N.", "e.g. --shard 1/4 ... --shard 4/4."
        )
    return k, n


def shard_positions(size: int, k: int, n: int) -> list[int]:
    """The grid positions shard ``k`` of ``n`` trains (possibly none when n > size)."""
    return list(range(k - 1, size, n))


def grid_of(configs: list[Any], edge: dict[str, Any] | None) -> dict[str, Any]:
    """The grid as recorded in a part: the configurations, the edge options and a fingerprint."""
    grid = {"configs": [asdict(c) for c in configs], "edge": edge}
    text = json.dumps(grid, sort_keys=True, default=str)
    return {**grid, "fingerprint": hashlib.sha256(text.encode()).hexdigest()[:16]}


def data_checksum(checksums: dict[str, str]) -> str:
    """One checksum for the MNIST files a run used (from their verified MD5s)."""
    return hashlib.sha256(json.dumps(checksums, sort_keys=True).encode()).hexdigest()[:16]


def source_digest() -> str:
    """A digest of the toolkit's own Python source (the version number alone does not change
    between commits; two jobs of one sweep must run the same code)."""
    import edge_mnist

    root = Path(edge_mnist.__file__).resolve().parent
    # followlinks: runtime/, converters/ and models/ are linked into the package in a checkout.
    files = sorted(
        Path(d) / f
        for d, _dirs, names in os.walk(root, followlinks=True)
        for f in names
        if f.endswith(".py")
    )
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def code_versions() -> dict[str, str]:
    """The versions of the packages that shape a trained and exported model, and the digest of
    this toolkit's source."""
    from edge_mnist.runtime.sysinfo import package_versions

    versions = package_versions(CODE_DISTS)
    kept = {k: v for k, v in versions.items() if k in (*CODE_DISTS, "numpy")}
    return {**kept, "edge-mnist-source": source_digest()}


def shard_block(shard: str, configs: list[Any], edge: Any, checksums: dict[str, str]) -> Any:
    """What a part records for 'compare merge': its place, the grid, data and code."""
    k, n = parse_shard(shard)
    # The bench/reuse/out settings do not change a row's model; the rest of the edge options do.
    kept = ("export", "bench", "calibration_samples", "max_drop", "bench_runs")
    grid = grid_of(configs, {f: asdict(edge)[f] for f in kept} if edge else None)
    return {
        "index": k,
        "count": n,
        "grid_size": len(configs),
        "grid_fingerprint": grid.pop("fingerprint"),
        "data_checksum": data_checksum(checksums),
        "code_versions": code_versions(),
        "grid": grid,
    }


def read_parts(paths: list[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """Each part's document; refuses a file that is not a 'compare --shard --json' part."""
    if not paths:
        raise UsageError("no parts to merge.", "pass the --json files of every 'compare --shard'.")
    fix = "pass the files written by 'compare --shard K/N --json FILE'."
    parts = []
    for p in paths:
        doc = read_json(p, what="the compare part", fix=fix)
        if not isinstance(doc, dict) or not isinstance(doc.get("shard"), dict):
            raise UsageError(f"{p}: not a part of a sharded compare (no 'shard' block).", fix)
        parts.append((p, doc))
    return parts


def _check_part(path: Path, doc: dict[str, Any]) -> None:
    """A part's shard block and rows must agree: 1 <= index <= count, and one row at each grid
    position its shard trains (no row of another shard, none missing or twice)."""
    fix = "pass the files written by 'compare --shard K/N --json FILE', unedited."
    shard = doc["shard"]
    try:
        k, n, size = (int(shard[f]) for f in ("index", "count", "grid_size"))
    except (KeyError, TypeError, ValueError):
        raise UsageError(
            f"{path}: its 'shard' block lacks a whole index, count or grid_size.", fix
        ) from None
    if not 1 <= k <= n or size < 0:
        raise UsageError(f"{path}: shard {k}/{n} of a grid of {size} is not a shard.", fix)
    rows = doc.get("rows")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise UsageError(f"{path}: no 'rows' list.", fix)
    got = sorted(r.get("grid_index", -1) for r in rows if isinstance(r.get("grid_index"), int))
    want = shard_positions(size, k, n)
    if got != want or len(got) != len(rows):
        raise UsageError(
            f"{path}: shard {k}/{n} of a grid of {size} trains positions {want}, "
            f"but its rows have grid_index {[r.get('grid_index') for r in rows]}.",
            fix,
        )


def _same(parts: list[tuple[Path, dict[str, Any]]], what: str, key: str) -> None:
    first_path, first = parts[0]
    for p, doc in parts[1:]:
        if doc["shard"].get(key) != first["shard"].get(key):
            raise UsageError(
                f"{p} and {first_path} come from different {what}: "
                f"{doc['shard'].get(key)!r} vs {first['shard'].get(key)!r}.",
                "merge parts of one sweep: the same grid, MNIST files and code versions "
                "(rerun the odd part with the others' setup).",
            )


def merge_parts(paths: list[Path]) -> dict[str, Any]:
    """The document one 'compare' of the whole grid would have written, from its N parts; the
    best model and the Pareto front are marked across all of them."""
    from edge_mnist.compare import mark_pareto

    parts = read_parts(paths)
    for p, doc in parts:
        _check_part(p, doc)
    _same(parts, "grids", "grid_fingerprint")
    _same(parts, "grid sizes", "grid_size")
    _same(parts, "shard counts", "count")
    _same(parts, "MNIST data", "data_checksum")
    _same(parts, "code versions", "code_versions")
    n = int(parts[0][1]["shard"]["count"])
    by_index: dict[int, Path] = {}
    for p, doc in parts:
        k = int(doc["shard"]["index"])
        if k in by_index:
            raise UsageError(
                f"{p} and {by_index[k]} are both shard {k}/{n}.", "pass each shard once."
            )
        by_index[k] = p
    missing = [k for k in range(1, n + 1) if k not in by_index]
    if missing:
        raise UsageError(
            f"shard{'s' if len(missing) > 1 else ''} {', '.join(f'{k}/{n}' for k in missing)} "
            f"missing (got {len(parts)} of {n}).",
            "run the missing 'compare --shard K/N' jobs, or pass all their files.",
        )
    rows = sorted(
        (dict(r) for _p, doc in parts for r in doc["rows"]), key=lambda r: r["grid_index"]
    )
    for row in rows:
        row["best"] = False
    if rows:
        max(rows, key=lambda r: r["validation_accuracy"])["best"] = True
    first = parts[0][1]
    merged = {k: v for k, v in first.items() if k != "shard"}
    merged["rows"] = rows
    merged["pareto_basis"] = mark_pareto(rows)
    merged["merged_from"] = {
        "parts": [str(by_index[k]) for k in sorted(by_index)],
        "machines": [
            doc["machine"] for _p, doc in sorted(parts, key=lambda x: x[1]["shard"]["index"])
        ],
        "grid_fingerprint": first["shard"]["grid_fingerprint"],
        "data_checksum": first["shard"]["data_checksum"],
        "code_versions": first["shard"]["code_versions"],
    }
    return merged
