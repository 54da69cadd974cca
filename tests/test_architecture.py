"""The layering holds: import contracts, and the rules a contract cannot say."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TCMA = ROOT / "tcma"


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout
    assert "5 kept, 0 broken" in done.stdout


def _calls(path: Path, names: set[str]) -> list[str]:
    """`file:line name` for each call of an attribute in `names` (x.commit(), q.enqueue(...))."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names:
            found.append(f"{path.name}:{node.lineno} {node.func.attr}")
    return found


def test_only_services_commit_or_enqueue():
    raw = {"commit", "enqueue", "enqueue_many"}
    outside = [
        call for path in TCMA.rglob("*.py")
        if not path.is_relative_to(TCMA / "services") and path != TCMA / "queue.py"
        for call in _calls(path, raw)
    ]
    assert outside == []


def test_the_check_sees_a_commit_or_an_enqueue(tmp_path):
    module = tmp_path / "handler.py"
    module.write_text("def handle(db, queue):\n    db.session.commit()\n    queue.enqueue_many([])\n")
    assert _calls(module, {"commit", "enqueue", "enqueue_many"}) == ["handler.py:2 commit",
                                                                     "handler.py:3 enqueue_many"]


def test_every_job_name_resolves_to_a_declared_job():
    from tcma.queue import resolve_job

    names = set()
    for path in TCMA.rglob("*.py"):
        names |= set(re.findall(r"[\"'](tcma\.jobs\.[\w.]+)[\"']", path.read_text()))
    assert names, "no job is named by dotted path"
    for name in sorted(names):
        job = resolve_job(name)
        assert callable(job), name
        assert hasattr(job, "job_options"), f"{name} is not declared with @job"
