"""Request counts and latency percentiles, rendered as plain text for GET /metrics."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque

import numpy as np

WINDOW = 4096
"""Latency percentiles cover this many most recent /predict requests (bounded memory)."""
QUANTILES = (0.5, 0.9, 0.99)


class Metrics:
    """Thread-safe counters; one instance per server."""

    def __init__(self, window: int = WINDOW) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, int]] = Counter()
        self._latencies: deque[float] = deque(maxlen=window)
        self._images = 0
        self._timeouts = 0
        self._rejected = 0
        self._started = time.monotonic()

    def request(self, route: str, status: int, seconds: float, images: int = 0) -> None:
        """Count one answered request; successful predictions also feed the latency window."""
        with self._lock:
            self._requests[(route, status)] += 1
            if images:
                self._images += images
                self._latencies.append(seconds)

    def timeout(self) -> None:
        """Count a client cut off for being too slow."""
        with self._lock:
            self._timeouts += 1

    def rejected(self) -> None:
        """Count a connection turned away because every worker slot was busy."""
        with self._lock:
            self._rejected += 1

    def snapshot(self) -> dict[str, object]:
        """The counters as plain values."""
        with self._lock:
            latencies = np.array(self._latencies, dtype=np.float64)
            return {
                "uptime_s": time.monotonic() - self._started,
                "requests": dict(self._requests),
                "images": self._images,
                "timeouts": self._timeouts,
                "rejected": self._rejected,
                "latency_ms": {
                    q: float(np.quantile(latencies, q)) * 1e3 if latencies.size else None
                    for q in QUANTILES
                },
            }

    def render(self) -> str:
        """Prometheus text format (plain key-value lines, readable without Prometheus too)."""
        snap = self.snapshot()
        lines = [
            "# HELP edge_mnist_requests_total HTTP requests answered, by route and status.",
            "# TYPE edge_mnist_requests_total counter",
        ]
        requests = snap["requests"]
        assert isinstance(requests, dict)
        for (route, status), count in sorted(requests.items()):
            lines.append(f'edge_mnist_requests_total{{route="{route}",status="{status}"}} {count}')
        lines += [
            "# TYPE edge_mnist_images_classified_total counter",
            f"edge_mnist_images_classified_total {snap['images']}",
            "# TYPE edge_mnist_client_timeouts_total counter",
            f"edge_mnist_client_timeouts_total {snap['timeouts']}",
            "# TYPE edge_mnist_connections_rejected_total counter",
            f"edge_mnist_connections_rejected_total {snap['rejected']}",
            "# HELP edge_mnist_predict_latency_ms Server-side /predict latency, recent requests.",
            "# TYPE edge_mnist_predict_latency_ms summary",
        ]
        latency = snap["latency_ms"]
        assert isinstance(latency, dict)
        for q, value in latency.items():
            shown = "NaN" if value is None else f"{value:.3f}"
            lines.append(f'edge_mnist_predict_latency_ms{{quantile="{q}"}} {shown}')
        lines.append(f"edge_mnist_uptime_seconds {snap['uptime_s']:.1f}")
        return "\n".join(lines) + "\n"
