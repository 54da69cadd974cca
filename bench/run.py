"""Run every bench/bench_*.py and merge their entries into bench/results.json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Run each benchmark in its own process; write the merged list of entries."""
    out_dir = HERE / "results.d"
    out_dir.mkdir(exist_ok=True)
    entries, failed = [], []
    for script in sorted(HERE.glob("bench_*.py")):
        out = out_dir / f"{script.stem}.json"
        print(f"== {script.name}", flush=True)
        done = subprocess.run([sys.executable, str(script), "--out", str(out)], cwd=HERE.parent)
        if done.returncode != 0 or not out.exists():
            failed.append(script.name)
            continue
        entries.extend(json.loads(out.read_text()))
    (HERE / "results.json").write_text(json.dumps(entries, indent=2) + "\n")
    for e in entries:
        print(f"{e['name']:<44} {e['value']:>10.3f} {e['unit']:<10} floor {e['floor']:>10.3f}"
              f"  ratio {e['ratio']:.2f} (target {e['target']}, {e['better']} is better)")
    if failed:
        print("failed:", ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
