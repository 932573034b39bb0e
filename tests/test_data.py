"""MNIST on disk: IDX parsing, verification, the 55k/5k/10k split, where the data lives, and the
downloader (served from a local http.server; never the network)."""

from __future__ import annotations

import filecmp
import functools
import gzip
import hashlib
import http.client
import http.server
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge_mnist.data import (
    ENV_DATA,
    ENV_MIRRORS,
    FILES,
    MIRRORS,
    VALIDATION_SIZE,
    default_cache_dir,
    ensure_files,
    load_mnist,
    load_test_split,
    mirrors,
    resolve_data_dir,
)
from edge_mnist.errors import DataError
from edge_mnist.runtime.errors import DataFileError, EdgeMnistError, OutputError
from edge_mnist.runtime.idx import parse_idx, read_idx, read_idx_bytes

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"


# --- helpers ---------------------------------------------------------------------------------


def _link_files(src: Path, dst: Path, names: tuple[str, ...] | list[str]) -> None:
    """Make ``dst`` hold the given MNIST files as symlinks to the real ones (read-only use)."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        (dst / f"{name}.gz").symlink_to(src / f"{name}.gz")


def _idx(array: np.ndarray, type_code: int) -> bytes:
    """Encode an array as IDX (big-endian payload)."""
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(
        struct.pack(">I", n) for n in array.shape
    )
    return header + array.astype(dtypes[type_code]).tobytes()


def _raw(mnist_dir: Path, name: str) -> bytes:
    return gzip.decompress((mnist_dir / f"{name}.gz").read_bytes())


def _closed_port() -> int:
    """A local TCP port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _no_part_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".part"))


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder quietly and records each requested path on its server."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]


class Mirrors:
    """Local HTTP servers standing in for the public mirrors."""

    def __init__(self) -> None:
        self.servers: list[http.server.ThreadingHTTPServer] = []
        self.sockets: list[socket.socket] = []

    def not_http(self) -> str:
        """A local TCP server that answers every request with a non-HTTP line."""
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        self.sockets.append(listener)

        def answer() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    conn.recv(65536)
                    conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

        threading.Thread(target=answer, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}/"

    def serve(self, folder: Path) -> str:
        """Serve ``folder`` on a free local port; return the base URL."""
        handler = functools.partial(_Handler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.hits = []  # type: ignore[attr-defined]
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self.servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    @property
    def hits(self) -> list[str]:
        return [hit for server in self.servers for hit in server.hits]  # type: ignore[attr-defined]

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
        for listener in self.sockets:
            listener.close()


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mirrors]:
    """Local mirrors, stopped after the test; proxies are bypassed so nothing leaves the host."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    servers = Mirrors()
    yield servers
    servers.close()


# --- IDX parsing -----------------------------------------------------------------------------


def test_read_idx_gz_and_raw_give_the_same_array(mnist_dir: Path, tmp_path: Path) -> None:
    raw_path = tmp_path / TEST_LABELS
    raw_path.write_bytes(_raw(mnist_dir, TEST_LABELS))
    from_gz = read_idx(mnist_dir / f"{TEST_LABELS}.gz")
    from_raw = read_idx(raw_path)
    assert from_gz.shape == (10_000,)
    assert from_gz.dtype == np.uint8
    np.testing.assert_array_equal(from_gz, from_raw)
    # The known first test labels of MNIST.
    assert from_gz[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_read_idx_images_have_the_header_shape(mnist_dir: Path) -> None:
    images = read_idx(mnist_dir / f"{TEST_IMAGES}.gz")
    assert images.shape == (10_000, 28, 28)
    assert images.dtype == np.uint8
    assert images.max() == 255


@pytest.mark.parametrize(
    ("type_code", "values"),
    [
        (0x08, np.array([[0, 1], [254, 255]], dtype=np.uint8)),
        (0x09, np.array([-128, -1, 0, 127], dtype=np.int8)),
        (0x0B, np.array([-30000, 1, 258, 30000], dtype=np.int16)),
        (0x0C, np.array([[-(2**31), 1], [65536, 2**31 - 1]], dtype=np.int32)),
        (0x0D, np.array([0.5, -1.25, 3.0e8], dtype=np.float32)),
        (0x0E, np.array([[1e-300, -2.5]], dtype=np.float64)),
    ],
)
def test_parse_idx_decodes_every_type_big_endian(type_code: int, values: np.ndarray) -> None:
    parsed = parse_idx(_idx(values, type_code))
    assert parsed.shape == values.shape
    np.testing.assert_array_equal(parsed, values)
    assert parsed.dtype.isnative


def test_truncated_raw_idx_is_rejected_naming_the_file(mnist_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / TEST_LABELS
    path.write_bytes(_raw(mnist_dir, TEST_LABELS)[:-100])
    with pytest.raises(DataFileError) as info:
        read_idx(path)
    assert str(path) in info.value.problem
    assert "truncated" in info.value.problem
    assert "9908" in info.value.problem and "10008" in info.value.problem


def test_idx_longer_than_its_header_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "long-idx1-ubyte"
    path.write_bytes(_idx(np.arange(10, dtype=np.uint8), 0x08) + b"\x00")
    with pytest.raises(DataFileError, match="longer than its header"):
        read_idx(path)


def test_idx_with_truncated_header_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "short-header"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">I", 10))  # declares 3 dims, gives 1
    with pytest.raises(DataFileError) as info:
        read_idx(path)
    assert str(path) in info.value.problem
    assert "header" in info.value.problem


def test_tiny_file_is_too_short_to_be_idx(tmp_path: Path) -> None:
    path = tmp_path / "tiny"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(DataFileError, match="too short"):
        read_idx(path)


@pytest.mark.parametrize(
    "payload",
    [
        b"<!DOCTYPE html><html><body>Not Found</body></html>",
        bytes([0, 0, 0x07, 1]) + struct.pack(">I", 1) + b"\x00",  # unknown type code
        bytes([1, 0, 0x08, 1]) + struct.pack(">I", 1) + b"\x00",  # first byte not zero
    ],
    ids=["html", "unknown-type", "nonzero-first-byte"],
)
def test_wrong_magic_number_is_rejected_naming_the_file(tmp_path: Path, payload: bytes) -> None:
    path = tmp_path / TEST_LABELS
    path.write_bytes(payload)
    with pytest.raises(DataFileError) as info:
        read_idx(path)
    assert str(path) in info.value.problem
    assert "magic number" in info.value.problem
    assert payload[:4].hex() in info.value.problem
    assert info.value.fix and "IDX" in info.value.fix


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "nope-idx1-ubyte.gz"
    with pytest.raises(DataFileError) as info:
        read_idx(path)
    assert str(path) in info.value.problem
    assert "no such file" in info.value.problem


def test_truncated_gzip_stream_is_rejected(mnist_dir: Path, tmp_path: Path) -> None:
    data = (mnist_dir / f"{TEST_LABELS}.gz").read_bytes()
    path = tmp_path / f"{TEST_LABELS}.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError) as info:
        read_idx_bytes(path)
    assert str(path) in info.value.problem
    assert "gzip" in info.value.problem
    assert "truncated or corrupt" in info.value.problem


def test_corrupt_gzip_stream_is_rejected(mnist_dir: Path, tmp_path: Path) -> None:
    data = bytearray((mnist_dir / f"{TEST_LABELS}.gz").read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    path = tmp_path / f"{TEST_LABELS}.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(DataFileError) as info:
        read_idx(path)
    assert str(path) in info.value.problem
    assert "gzip" in info.value.problem


# --- Verification of the data folder ---------------------------------------------------------


def test_changed_pixel_fails_the_md5_check_naming_the_file(mnist_dir: Path, tmp_path: Path) -> None:
    _link_files(mnist_dir, tmp_path, [TRAIN_IMAGES, TRAIN_LABELS, TEST_LABELS])
    data = bytearray(_raw(mnist_dir, TEST_IMAGES))
    data[16 + 14 * 28 + 14] ^= 0x01  # one pixel of the first test image
    bad = tmp_path / TEST_IMAGES
    bad.write_bytes(bytes(data))
    assert read_idx(bad).shape == (10_000, 28, 28)  # still a valid IDX file: only the MD5 differs
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path, download=False)
    problem = info.value.problem
    assert str(bad) in problem
    assert "MD5" in problem
    assert FILES[TEST_IMAGES][0] in problem  # the expected checksum
    assert hashlib.md5(bytes(data), usedforsecurity=False).hexdigest() in problem
    assert info.value.fix and "delete" in info.value.fix


def test_truncated_file_in_the_data_folder_is_rejected(mnist_dir: Path, tmp_path: Path) -> None:
    _link_files(mnist_dir, tmp_path, [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES])
    bad = tmp_path / TEST_LABELS
    bad.write_bytes(_raw(mnist_dir, TEST_LABELS)[:5000])
    with pytest.raises(DataError) as info:
        load_test_split(tmp_path)
    assert str(bad) in info.value.problem
    assert "5000 bytes" in info.value.problem
    assert "10008" in info.value.problem


def test_corrupt_gzip_in_the_data_folder_is_rejected(mnist_dir: Path, tmp_path: Path) -> None:
    _link_files(mnist_dir, tmp_path, [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES])
    data = (mnist_dir / f"{TEST_LABELS}.gz").read_bytes()
    bad = tmp_path / f"{TEST_LABELS}.gz"
    bad.write_bytes(data[:-20])
    with pytest.raises(EdgeMnistError) as info:
        load_test_split(tmp_path)
    assert str(bad) in info.value.problem
    assert "gzip" in info.value.problem


def test_missing_file_without_download_names_it(mnist_dir: Path, tmp_path: Path) -> None:
    _link_files(mnist_dir, tmp_path, [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES])
    with pytest.raises(DataError) as info:
        ensure_files(tmp_path, download=False)
    problem = info.value.problem
    assert str(tmp_path) in problem
    assert TEST_LABELS in problem
    assert TEST_IMAGES not in problem
    assert info.value.fix and f"${ENV_DATA}" in info.value.fix
    assert not (tmp_path / f"{TEST_LABELS}.gz").exists()


def test_raw_files_load_like_the_gz_files(
    mnist_dir: Path, tmp_path: Path, test_images: tuple[np.ndarray, np.ndarray]
) -> None:
    _link_files(mnist_dir, tmp_path, [TRAIN_IMAGES, TRAIN_LABELS])
    for name in (TEST_IMAGES, TEST_LABELS):
        (tmp_path / name).write_bytes(_raw(mnist_dir, name))
    images, labels = load_test_split(tmp_path)
    assert images.shape == (10_000, 784) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, test_images[0])
    np.testing.assert_array_equal(labels, test_images[1])


# --- The split -------------------------------------------------------------------------------


def test_split_shapes_and_dtypes(mnist) -> None:  # type: ignore[no-untyped-def]
    assert mnist.shapes() == {
        "X_train": (55_000, 784),
        "y_train": (55_000,),
        "X_valid": (5_000, 784),
        "y_valid": (5_000,),
        "X_test": (10_000, 784),
        "y_test": (10_000,),
    }
    for x in (mnist.x_train, mnist.x_val, mnist.x_test):
        assert x.dtype == np.float32
        assert float(x.min()) == 0.0
        assert float(x.max()) == 1.0
    for y in (mnist.y_train, mnist.y_val, mnist.y_test):
        assert np.issubdtype(y.dtype, np.integer)
        assert set(np.unique(y).tolist()) == set(range(10))


def test_validation_is_the_first_5000_train_images(mnist, mnist_dir: Path) -> None:  # type: ignore[no-untyped-def]
    images = read_idx(mnist_dir / f"{TRAIN_IMAGES}.gz").reshape(60_000, 784)
    labels = read_idx(mnist_dir / f"{TRAIN_LABELS}.gz")
    assert VALIDATION_SIZE == 5_000
    # Scaled by 1/255: undoing the scale gives back the file's bytes exactly.
    np.testing.assert_array_equal(np.rint(mnist.x_val * 255).astype(np.uint8), images[:5_000])
    np.testing.assert_array_equal(mnist.y_val, labels[:5_000])
    np.testing.assert_array_equal(np.rint(mnist.x_train * 255).astype(np.uint8), images[5_000:])
    np.testing.assert_array_equal(mnist.y_train, labels[5_000:])
    np.testing.assert_allclose(mnist.x_val, images[:5_000] / 255.0, rtol=0, atol=1e-7)


def test_test_split_is_the_t10k_file(mnist, test_images) -> None:  # type: ignore[no-untyped-def]
    images, labels = test_images
    np.testing.assert_array_equal(np.rint(mnist.x_test * 255).astype(np.uint8), images)
    np.testing.assert_array_equal(mnist.y_test, labels)


def test_checksums_are_recorded(mnist) -> None:  # type: ignore[no-untyped-def]
    assert mnist.checksums == {name: md5 for name, (md5, _size, _shape) in FILES.items()}


# --- Where the data lives --------------------------------------------------------------------


def test_data_dir_option_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_DATA, str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_data_dir(tmp_path / "opt") == (tmp_path / "opt", "--data-dir")


def test_environment_wins_over_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_DATA, str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_data_dir(None) == (tmp_path / "env", f"${ENV_DATA}")


def test_cache_follows_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_DATA, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    expected = tmp_path / "xdg" / "edge-mnist" / "mnist"
    assert default_cache_dir() == expected
    assert resolve_data_dir(None) == (expected, "cache")


def test_empty_variables_fall_through_to_the_home_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_DATA, "")
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_data_dir(None) == (tmp_path / ".cache" / "edge-mnist" / "mnist", "cache")


def test_files_are_found_through_each_source(
    mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The order is observable end to end: each source wins over an empty lower-priority one and
    is skipped for a filled one only when a higher-priority source is given."""
    full, empty = tmp_path / "full", tmp_path / "empty"
    _link_files(mnist_dir, full, list(FILES))
    empty.mkdir()
    xdg = tmp_path / "xdg"
    _link_files(mnist_dir, xdg / "edge-mnist" / "mnist", list(FILES))

    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    monkeypatch.delenv(ENV_DATA, raising=False)
    paths, source = ensure_files(None, download=False)
    assert source.endswith("(cache)")
    assert paths[TEST_LABELS].parent == xdg / "edge-mnist" / "mnist"

    monkeypatch.setenv(ENV_DATA, str(empty))  # the variable hides the filled cache
    with pytest.raises(DataError, match=r"\$EDGE_MNIST_DATA"):
        ensure_files(None, download=False)

    paths, source = ensure_files(full, download=False)  # the option hides the variable
    assert source == f"{full} (--data-dir)"
    assert paths[TEST_LABELS] == full / f"{TEST_LABELS}.gz"


# --- Downloader ------------------------------------------------------------------------------


def test_mirrors_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_MIRRORS, " http://a.example/x , http://b.example/y/ ,")
    assert mirrors() == ("http://a.example/x/", "http://b.example/y/")
    monkeypatch.delenv(ENV_MIRRORS)
    assert mirrors() == MIRRORS


def test_download_falls_back_to_a_working_mirror(
    mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, local: Mirrors
) -> None:
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    dead = f"http://127.0.0.1:{_closed_port()}/"
    monkeypatch.setenv(ENV_MIRRORS, ",".join([dead, local.serve(empty), local.serve(mnist_dir)]))
    target = tmp_path / "data" / "nested"  # created on demand
    seen: list[tuple[str, int, int | None, bool, int]] = []

    def progress(name: str, done: int, total: int | None) -> None:
        # While a file is arriving, only a hidden .part file exists, never the final name.
        seen.append(
            (name, done, total, (target / f"{name}.gz").exists(), len(_no_part_files(target)))
        )

    paths, source = ensure_files(target, download=True, progress=progress)
    assert source == f"{target} (--data-dir)"
    for name in FILES:
        assert paths[name] == target / f"{name}.gz"
        assert filecmp.cmp(paths[name], mnist_dir / f"{name}.gz", shallow=False)
        calls = [s for s in seen if s[0] == name]
        assert calls, f"no progress reported for {name}"
        assert calls[-1][1] == calls[-1][2] == (mnist_dir / f"{name}.gz").stat().st_size
        assert not any(exists for _n, _d, _t, exists, _p in calls), f"{name}.gz appeared early"
        assert all(parts == 1 for *_rest, parts in calls)
    assert _no_part_files(target) == []
    assert sorted(p.name for p in target.iterdir()) == sorted(f"{n}.gz" for n in FILES)
    # And the folder now loads (verifying every MD5) without any further download.
    images, labels = load_test_split(target)
    assert images.shape == (10_000, 784) and labels.shape == (10_000,)


def _wrong_payloads(mnist_dir: Path) -> dict[str, bytes]:
    labels = bytearray(_raw(mnist_dir, TEST_LABELS))
    labels[8] = (labels[8] + 1) % 10  # a valid IDX file with one label changed
    return {
        "html": b"<!DOCTYPE html><html><body>Access denied</body></html>\n",
        "changed-label-gz": gzip.compress(bytes(labels)),
        "other-file-gz": (mnist_dir / f"{TRAIN_LABELS}.gz").read_bytes(),
    }


@pytest.mark.parametrize("kind", ["html", "changed-label-gz", "other-file-gz"])
def test_mirror_with_wrong_bytes_is_rejected_and_leaves_nothing(
    mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, local: Mirrors, kind: str
) -> None:
    bad = tmp_path / "bad-mirror"
    bad.mkdir()
    (bad / f"{TEST_LABELS}.gz").write_bytes(_wrong_payloads(mnist_dir)[kind])
    target = tmp_path / "data"
    _link_files(mnist_dir, target, [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES])
    bad_url = local.serve(bad)
    monkeypatch.setenv(ENV_MIRRORS, bad_url)
    with pytest.raises(DataError) as info:
        ensure_files(target, download=True)
    problem = info.value.problem
    assert f"{bad_url}{TEST_LABELS}.gz" in problem
    assert "MD5" in problem
    assert not (target / f"{TEST_LABELS}.gz").exists()
    assert _no_part_files(target) == []

    # With a good mirror after it, the bad bytes are skipped and the good file lands.
    monkeypatch.setenv(ENV_MIRRORS, f"{bad_url},{local.serve(mnist_dir)}")
    paths, _ = ensure_files(target, download=True)
    assert filecmp.cmp(paths[TEST_LABELS], mnist_dir / f"{TEST_LABELS}.gz", shallow=False)
    assert _no_part_files(target) == []


def _corrupt_gzip_mirror(mnist_dir: Path, tmp_path: Path, local: Mirrors) -> str:
    """A damaged archive (gzip magic, then garbage)."""
    bad = tmp_path / "bad-mirror"
    bad.mkdir()
    good_gz = (mnist_dir / f"{TEST_LABELS}.gz").read_bytes()
    (bad / f"{TEST_LABELS}.gz").write_bytes(good_gz[: len(good_gz) // 2])
    return local.serve(bad)


def _not_http_mirror(mnist_dir: Path, tmp_path: Path, local: Mirrors) -> str:
    return local.not_http()


@pytest.mark.parametrize("bad_mirror", [_corrupt_gzip_mirror, _not_http_mirror])
def test_a_broken_mirror_is_skipped_for_the_next(
    bad_mirror: Any,
    mnist_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    local: Mirrors,
) -> None:
    target = tmp_path / "data"
    _link_files(mnist_dir, target, [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES])
    bad_url = bad_mirror(mnist_dir, tmp_path, local)
    monkeypatch.setenv(ENV_MIRRORS, f"{bad_url},{local.serve(mnist_dir)}")
    paths, _ = ensure_files(target, download=True)
    assert filecmp.cmp(paths[TEST_LABELS], mnist_dir / f"{TEST_LABELS}.gz", shallow=False)
    assert _no_part_files(target) == []


def test_all_mirrors_failing_says_where_to_put_the_files(
    mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, local: Mirrors
) -> None:
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    dead = f"http://127.0.0.1:{_closed_port()}/"
    not_found = local.serve(empty)
    monkeypatch.setenv(ENV_MIRRORS, f"{dead},{not_found}")
    target = tmp_path / "data"
    _link_files(mnist_dir, target, [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES])
    with pytest.raises(DataError) as info:
        ensure_files(target, download=True)
    problem, fix = info.value.problem, info.value.fix or ""
    assert f"could not download {TEST_LABELS}.gz" in problem
    assert f"{dead}{TEST_LABELS}.gz" in problem
    assert f"{not_found}{TEST_LABELS}.gz" in problem
    assert "refused" in problem.lower()
    assert "not found" in problem.lower()
    assert str(target) in fix
    assert "--data-dir" in fix and f"${ENV_DATA}" in fix
    assert sorted(p.name for p in target.iterdir()) == sorted(
        f"{n}.gz" for n in (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES)
    )


def test_a_full_disk_stops_the_download_and_says_so(
    mnist_dir: Path, tiny_tmpfs: Path, monkeypatch: pytest.MonkeyPatch, local: Mirrors
) -> None:
    first, second = local.serve(mnist_dir), local.serve(mnist_dir)
    monkeypatch.setenv(ENV_MIRRORS, f"{first},{second}")
    with pytest.raises(OutputError, match=r"no space left on the device at .*small-disk") as info:
        ensure_files(tiny_tmpfs, download=True)
    assert info.value.fix == "free space or choose another folder."
    # Another mirror would fill the disk just the same: it is never asked.
    assert local.servers[0].hits and local.servers[1].hits == []  # type: ignore[attr-defined]
    assert [p.name for p in tiny_tmpfs.iterdir() if p.name.endswith(".part")] == []


def test_no_download_never_contacts_a_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, local: Mirrors, mnist_dir: Path
) -> None:
    monkeypatch.setenv(ENV_MIRRORS, local.serve(mnist_dir))
    target = tmp_path / "data"
    with pytest.raises(DataError, match="missing"):
        load_mnist(target, download=False)
    assert local.hits == []
    assert not target.exists()


def test_uncreatable_data_folder_is_a_data_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DataError) as info:
        ensure_files(blocker / "mnist", download=True)
    assert "cannot create" in info.value.problem
    assert str(blocker / "mnist") in info.value.problem
