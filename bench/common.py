"""Helpers shared by the benchmarks: timing and the results.json entry shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PG_ADMIN = os.environ.get("TCMA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


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


@contextmanager
def migrated_scratch_database() -> Iterator[str]:
    """A fresh PostgreSQL database upgraded to head (`tcma db upgrade`), this process's TCMA_*
    settings pointing at it (local files, no Redis); yields its URL and drops it afterwards."""
    from sqlalchemy import create_engine, text

    name = f"tcma_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    workdir = tempfile.mkdtemp(prefix="tcma-bench-")
    env = dict(os.environ, TCMA_DATABASE_URL=url, TCMA_STORAGE="local", TCMA_STORAGE_PATH=f"{workdir}/files",
               TCMA_SECRET_KEY="bench-" + "x" * 40, TCMA_PUBLIC_URL="http://bench.test")
    env.pop("TCMA_REDIS_URL", None)
    os.environ.update(env)
    os.environ.pop("TCMA_REDIS_URL", None)
    try:
        subprocess.run([str(Path(sys.executable).with_name("tcma")), "db", "upgrade"], env=env,
                       check=True, capture_output=True)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
