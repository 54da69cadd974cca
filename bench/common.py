"""Helpers shared by the benchmarks: timing and the results.json entry shape."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def best_of(func: Callable[[], Any], repeat: int = 5) -> float:
    """The fastest of `repeat` runs of func(), in seconds (least disturbed by other load)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def entry(name: str, unit: str, value: float, floor: float, target: float,
          better: str) -> dict[str, Any]:
    """One results.json entry; ratio = value / floor, `better` says which way it should go."""
    if better not in {"lower", "higher"}:
        raise ValueError("better must be 'lower' or 'higher'")
    return {"name": name, "unit": unit, "value": round(value, 4), "floor": round(floor, 4),
            "ratio": round(value / floor, 3), "target": target, "better": better}


def write(path: str | Path, entries: list[dict[str, Any]]) -> None:
    """Write a benchmark's entries for bench/run.py to merge."""
    Path(path).write_text(json.dumps(entries, indent=2) + "\n")
