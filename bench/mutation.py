"""Mutation score of renderers/ and campaigns/ against their pure tests (`make mutation`).

mutmut runs in a scratch copy under bench/out/mutation so that its configuration and its
mutants/ folder stay out of the work tree; the copy's pyproject.toml is the project's own
(same pytest settings) with a [tool.mutmut] table appended.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = ROOT / "bench" / "out" / "mutation"
PACKAGES = ("renderers", "campaigns")
TEST_DIRS = ("tests/renderers", "tests/campaigns")
# Read by the tests (templates, fonts, sample logos) or imported by them (tests/support).
COPIED = (*PACKAGES, "templates", "assets", "tests/support", *TEST_DIRS)
# Not tests/conftest.py: it needs PostgreSQL and Redis, which these tests never use.
MUTMUT_TABLE = f"""
[tool.mutmut]
source_paths = {json.dumps(list(PACKAGES))}
pytest_add_cli_args_test_selection = {json.dumps(list(TEST_DIRS))}
also_copy = ["templates", "assets"]
# A mutant is stopped after (its tests' time + 10 s) x 3 (default: (t + 1 s) x 15): enough
# for collection and a loaded machine, short for a mutant that loops forever.
timeout_multiplier = 3.0
timeout_constant = 10.0
"""


def prepare() -> None:
    """A fresh scratch copy of the packages, their tests and the files the tests read."""
    shutil.rmtree(SCRATCH, ignore_errors=True)
    for name in COPIED:
        shutil.copytree(ROOT / name, SCRATCH / name,
                        ignore=shutil.ignore_patterns("__pycache__", "_failures"))
    (SCRATCH / "tests" / "__init__.py").write_text("")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (SCRATCH / "pyproject.toml").write_text(pyproject + MUTMUT_TABLE, encoding="utf-8")


def score() -> dict[str, Counter]:
    """Mutant outcomes per module, read from mutmut's .meta files."""
    outcomes: dict[str, Counter] = {}
    for meta in sorted((SCRATCH / "mutants").glob("*/**/*.py.meta")):
        codes = [c for c in json.loads(meta.read_text())["exit_code_by_key"].values()
                 if c is not None]  # None: not run (a partial run of chosen mutants)
        module = str(meta.relative_to(SCRATCH / "mutants"))[: -len(".meta")]
        outcomes[module] = Counter("killed" if c in (1, 3) else "survived" if c == 0 else
                                   "timeout" if c in (24, -24, 36, 152, 255) else
                                   "no tests" if c in (5, 33) else "other" for c in codes)
    return outcomes


def report(outcomes: dict[str, Counter]) -> float:
    """Print killed / total per module and overall; return the overall percentage."""
    total = Counter()
    print(f"{'module':<28} {'killed':>7} {'total':>6} {'score':>7}  survived  no-tests  timeout")
    for module, counts in outcomes.items():
        total += counts
        n = sum(counts.values())
        if n:
            # A timeout counts as killed: the mutant made the tests hang, which they noticed.
            killed = counts["killed"] + counts["timeout"]
            print(f"{module:<28} {killed:>7} {n:>6} {100 * killed / n:>6.1f}%  "
                  f"{counts['survived']:>8}  {counts['no tests']:>8}  {counts['timeout']:>7}")
    n = sum(total.values())
    killed = total["killed"] + total["timeout"]
    percent = 100 * killed / n if n else 0.0
    print(f"{'overall':<28} {killed:>7} {n:>6} {percent:>6.1f}%")
    return percent


def main() -> int:
    """Prepare the copy, run mutmut on two cores, print the score; fail below --fail-under."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--fail-under", type=float, default=0.0)
    parser.add_argument("--score-only", action="store_true", help="report the last run again")
    parser.add_argument("mutants", nargs="*", help="mutant name globs, e.g. 'renderers.posts.*'")
    args = parser.parse_args()
    if not args.score_only:
        prepare()
        mutmut = Path(sys.executable).with_name("mutmut")
        log = SCRATCH / "mutmut.log"
        print(f"mutmut on {', '.join(PACKAGES)} with {args.jobs} workers; progress in {log}",
              flush=True)
        with log.open("w") as out:
            done = subprocess.run([str(mutmut), "run", "--max-children", str(args.jobs),
                                   *args.mutants], cwd=SCRATCH, stdout=out, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            print(log.read_text()[-3000:], file=sys.stderr)
            return done.returncode
    percent = report(score())
    print(f"survivors: cd {SCRATCH.relative_to(ROOT)} && {sys.prefix}/bin/mutmut results")
    return 1 if percent < args.fail_under else 0


if __name__ == "__main__":
    sys.exit(main())
