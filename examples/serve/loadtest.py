"""Load-test `edge-mnist serve` on loopback: K concurrent clients, a fixed number of requests.

The requests mix PNG photos of MNIST test digits, JSON pixel arrays and a share of malformed
bodies (damaged PNGs, bad JSON, wrong shapes, NaN, out-of-range pixels). Every valid answer is
checked against the same model run in this process; every malformed one must be a 400.
The server runs as a separate process, so its resident memory is measured on its own.

    python examples/serve/loadtest.py artifacts/model_int8.tflite --clients 1,4,16 --requests 20000
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from edge_mnist.runtime.classifier import Classifier
from edge_mnist.runtime.idx import find_idx, read_idx

POOL = 400  # distinct valid payloads, reused round-robin


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def png(image: np.ndarray) -> bytes:
    im = Image.fromarray(255 - image.reshape(28, 28)).resize((112, 112), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def payloads(
    model: Path, data: Path
) -> tuple[list[tuple[str, bytes, int]], list[tuple[str, bytes]]]:
    """Valid (content type, body, expected digit) and malformed (content type, body) requests."""
    found = find_idx(data, "t10k-images-idx3-ubyte")
    if found is None:
        sys.exit(f"no MNIST test images in {data}: pass --data")
    images = read_idx(found)[:POOL].reshape(POOL, 784)
    clf = Classifier.load(model)
    by_pixels = clf.predict(images).digits
    valid = []
    for i, image in enumerate(images):
        if i % 2:
            body = json.dumps({"pixels": image.tolist()}).encode()
            valid.append(("application/json", body, int(by_pixels[i])))
        else:
            body = png(image)
            digit = int(clf.classify_image(Image.open(io.BytesIO(body))).digits[0])
            valid.append(("image/png", body, digit))
    good_png = valid[0][1]
    nan = b'{"pixels": [NaN' + b", 0" * 783 + b"]}"
    malformed = [
        ("image/png", good_png[: len(good_png) // 2]),
        ("image/png", b"\x89PNG\r\n\x1a\n" + os.urandom(300)),
        ("image/jpeg", os.urandom(2000)),
        ("application/json", b'{"pixels": [1, 2, 3'),
        ("application/json", json.dumps({"pixels": [0] * 700}).encode()),
        ("application/json", json.dumps({"pixels": [999] * 784}).encode()),
        ("application/json", nan),
        ("application/json", b'{"image": []}'),
        ("multipart/form-data; boundary=zz", b"--zz\r\n\r\nno file here\r\n--zz--\r\n"),
    ]
    return valid, malformed


class Run:
    """Shared state of one load run."""

    def __init__(self, total: int, malformed_share: float, seed: int) -> None:
        rng = random.Random(seed)
        self.plan = [rng.random() < malformed_share for _ in range(total)]
        self.next = 0
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.valid_failed = 0
        self.malformed_wrong = 0
        self.examples: list[str] = []

    def take(self) -> int | None:
        with self.lock:
            if self.next >= len(self.plan):
                return None
            self.next += 1
            return self.next - 1


def client(run: Run, host: str, port: int, valid: list, malformed: list) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    latencies = []
    while (i := run.take()) is not None:
        bad = run.plan[i]
        ctype, body, *expected = malformed[i % len(malformed)] if bad else valid[i % len(valid)]
        start = time.perf_counter()
        try:
            conn.request("POST", "/predict", body=body, headers={"Content-Type": ctype})
            resp = conn.getresponse()
            data = resp.read()
            status = resp.status
            if resp.will_close:
                conn.close()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            status, data = -1, repr(exc).encode()
        latencies.append(time.perf_counter() - start)
        ok = status == 400 if bad else status == 200 and json.loads(data)["digits"] == expected
        if not ok:
            with run.lock:
                if bad:
                    run.malformed_wrong += 1
                else:
                    run.valid_failed += 1
                if len(run.examples) < 5:
                    run.examples.append(
                        f"{'malformed' if bad else 'valid'} #{i}: {status} {data[:200]!r}"
                    )
    conn.close()
    with run.lock:
        run.latencies.extend(latencies)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path)
    p.add_argument("--clients", default="1,4,16", help="comma-separated client counts")
    p.add_argument(
        "--requests",
        default="2000,5000,20000",
        help="requests per run (one per client count, or one for all)",
    )
    p.add_argument("--malformed", type=float, default=0.1, help="share of malformed requests")
    p.add_argument("--data", type=Path, default=Path(os.environ.get("EDGE_MNIST_DATA", ".")))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    ks = [int(k) for k in args.clients.split(",")]
    counts = [int(n) for n in args.requests.split(",")]
    counts = counts * len(ks) if len(counts) == 1 else counts
    valid, malformed = payloads(args.model, args.data)

    server = subprocess.Popen(
        [sys.executable, "-m", "edge_mnist.runtime.serve", str(args.model), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    url = server.stdout.readline().rsplit(" ", 1)[1].strip()
    host, port = url.split("//")[1].strip("/").rsplit(":", 1)
    print(f"server pid {server.pid} at {url}; RSS at start {rss_kib(server.pid) / 1024:.1f} MiB")
    warm = Run(200, args.malformed, args.seed)  # warm up caches and allocator pools first
    client(warm, host, int(port), valid, malformed)
    print(
        f"{'K':>3} {'requests':>8} {'malformed':>9} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'valid failed':>12} {'RSS before':>10} {'RSS after':>9} {'growth':>7}"
    )
    for k, n in zip(ks, counts, strict=True):
        run = Run(n, args.malformed, args.seed + k)
        before = rss_kib(server.pid)
        threads = [
            threading.Thread(target=client, args=(run, host, int(port), valid, malformed))
            for _ in range(k)
        ]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        after = rss_kib(server.pid)
        lat = np.array(run.latencies) * 1e3
        print(
            f"{k:>3} {n:>8} {sum(run.plan):>9} {n / elapsed:>7.0f} {np.percentile(lat, 50):>7.2f} "
            f"{np.percentile(lat, 99):>7.2f} {run.valid_failed:>12} {before / 1024:>8.1f}Mi "
            f"{after / 1024:>7.1f}Mi {(after - before) / 1024:>+6.1f}Mi",
            flush=True,
        )
        for line in run.examples:
            print("   ", line)
        if run.malformed_wrong:
            print(f"    {run.malformed_wrong} malformed requests did not get a 400")
    alive = server.poll() is None
    print(f"server still up: {'yes' if alive else 'NO'}")
    server.terminate()
    server.wait(20)
    sys.exit(0 if alive else 1)


if __name__ == "__main__":
    main()
