"""The Pareto front: the points no other point beats on every objective at once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def pareto_front(
    points: Sequence[T], objectives: Sequence[Callable[[T], float | None]]
) -> list[bool]:
    """For each point, whether it is on the front. Every objective is minimised (negate one to
    maximise it); a point with a missing value (None) is never on the front.

    A point is dominated when another is no worse on every objective and better on at least one.
    """
    values: list[tuple[float, ...] | None] = []
    for p in points:
        v = [f(p) for f in objectives]
        values.append(
            None if any(x is None for x in v) else tuple(float(x) for x in v if x is not None)
        )
    front = []
    for i, a in enumerate(values):
        if a is None:
            front.append(False)
            continue
        dominated = any(
            b is not None
            and j != i
            and all(y <= x for x, y in zip(a, b, strict=True))
            and any(y < x for x, y in zip(a, b, strict=True))
            for j, b in enumerate(values)
        )
        front.append(not dominated)
    return front
