"""Where a launch worker's CPU time goes, per asset: drawing vs everything around it.

python bench/profile_launch.py [--partners 200] [--profile [--stats /tmp/launch.prof]]
Builds the bench's scratch database, launches the bench's campaign, then renders every chunk the
way `tcma worker` does: templates parsed and outputs warmed in this (parent) process, each chunk
in a forked work horse under cProfile. Reports CPU time (not wall clock: the machine is shared)
per asset, split by component, and writes the merged profile for `python -m pstats`.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from redis import Redis  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402

from bench.bench_launch import OUTPUTS, PG_ADMIN, REDIS_URL, seed  # noqa: E402

Func = tuple[str, str]  # (path tail, function name)

DRAW: Func = ("renderers/engine.py", "render")
JOB: Func = ("tcma/jobs/render.py", "render_assets")
# Disjoint components of a job: (label, functions whose cumulative time it is, optional caller).
COMPONENTS: list[tuple[str, list[Func], Func | None]] = [
    ("drawing (Renderer.render)", [DRAW], None),
    ("resolution (resolve_request, minus link codes)", [("campaigns/request.py", "resolve_request")], None),
    ("link codes (LinkBatch.link_for)", [("tcma/services/tracking/links.py", "link_for")], None),
    ("partner profile + logo decode", [("tcma/services/launch/renders.py", "partner_profile")], None),
    ("links saved (save_links)", [("tcma/services/tracking/links.py", "save_links")], None),
    ("storage writes (Storage.put)", [("tcma/storage.py", "put")], None),
    ("claim (claim_assets, with its commit)", [("tcma/services/launch/renders.py", "claim_assets")], None),
    ("asset/render rows (_record, insert_renders, render_ids)",
     [("tcma/services/launch/render_jobs.py", "_record"),
      ("tcma/services/launch/renders.py", "insert_renders"),
      ("tcma/services/launch/renders.py", "render_ids")], None),
    ("batch commits", [("tcma/services/transaction.py", "commit")],
     ("tcma/services/launch/render_jobs.py", "_render_batch")),
    ("completion check (campaigns_of, complete_if_done)",
     [("tcma/services/launch/launches.py", "campaigns_of"),
      ("tcma/services/launch/launches.py", "complete_if_done")], None),
]


def _matches(key: tuple[str, int, str], func: Func) -> bool:
    return key[2] == func[1] and key[0].endswith(func[0])


def cumulative(stats: pstats.Stats, func: Func, caller: Func | None = None) -> float:
    """Seconds spent in `func` and below (only when called from `caller`, if given)."""
    total = 0.0
    for key, (_cc, _nc, _tt, ct, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if not _matches(key, func):
            continue
        if caller is None:
            total += ct
        else:
            total += sum(edge[3] for who, edge in callers.items() if _matches(who, caller))
    return total


def breakdown(stats: pstats.Stats, assets: int) -> list[tuple[str, float]]:
    """Per-asset milliseconds of each component, from the merged profile."""
    values = {label: sum(cumulative(stats, f, caller) for f in funcs) for label, funcs, caller in COMPONENTS}
    link_codes = values["link codes (LinkBatch.link_for)"]
    values["resolution (resolve_request, minus link codes)"] -= link_codes
    job = cumulative(stats, JOB)
    values["other (rows loaded, glue, session bookkeeping)"] = job - sum(values.values())
    values["job total"] = job
    values["job total minus drawing"] = job - cumulative(stats, DRAW)
    return [(label, seconds * 1000 / assets) for label, seconds in values.items()]


# Functions timed in every work horse (exclusive CPU time: a nested timed call is its own
# component): (module[:class], attribute, component). Missing ones are skipped, so the list can name the
# functions of the pipeline before and after a change.
TIMED = [
    ("tcma.jobs.render", "claim_assets", "claim"),
    ("tcma.jobs.render", "campaigns_of", "completion check"),
    ("tcma.jobs.render", "complete_if_done", "completion check"),
    ("tcma.services.launch.render_jobs", "load_chunk", "rows loaded"),
    ("tcma.services.launch.render_jobs", "save_links", "links saved"),
    ("tcma.services.launch.render_jobs", "_record", "asset/render rows written"),
    ("tcma.services.launch.render_jobs", "insert_renders", "asset/render rows written"),
    ("tcma.services.launch.render_jobs", "render_ids", "asset/render rows written"),
    ("tcma.services.launch.render_jobs", "commit", "commits"),
    ("tcma.services.launch.renders", "partner_profile", "partner profile + logo decode"),
    ("tcma.services.launch.render_jobs", "partner_inputs_of", "partner profile + logo decode"),
    ("tcma.services.launch.render_jobs", "resolve_inputs", "resolution glue (pixel, unsubscribe)"),
    ("campaigns", "resolve_request", "resolution (campaigns)"),
    ("tcma.services.tracking.links:LinkBatch", "link_for", "link codes"),
    # Measured once per logo: whoever asks first (resolution choosing the email's logo, or the
    # drawing) pays; the floor pays it inside its drawing.
    ("renderers.placement", "cached_ink", "logo ink measured (once per logo)"),
]
MAIN = "everything else (row building, glue, ORM)"
GC = "garbage collection (in whatever ran)"


class ComponentClock:
    """Exclusive CPU seconds per component, from wrappers around the TIMED functions."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stack: list[list[float]] = []  # [start, seconds spent in nested timed calls]

    def wrap(self, func, label: str):
        """`func`, timed as `label`."""
        def timed(*args, **kwargs):
            self._stack.append([time.process_time(), 0.0])
            try:
                return func(*args, **kwargs)
            finally:
                began, nested = self._stack.pop()
                spent = time.process_time() - began
                self.seconds[label] = self.seconds.get(label, 0.0) + spent - nested
                if self._stack:
                    self._stack[-1][1] += spent
        return timed

    def count_collections(self, phase: str, _info: dict) -> None:
        """A gc callback: a collection's time is its own component, not its caller's."""
        if phase == "start":
            self._stack.append([time.process_time(), 0.0])
            return
        began, nested = self._stack.pop()
        spent = time.process_time() - began
        self.seconds[GC] = self.seconds.get(GC, 0.0) + spent - nested
        if self._stack:
            self._stack[-1][1] += spent

    def install(self, renderer, storage) -> None:
        """Wrap the TIMED functions, the renderer's render and the storage backend's put."""
        import importlib

        for module_name, attribute, label in TIMED:
            owner_name, _, class_name = module_name.partition(":")
            owner = importlib.import_module(owner_name)
            if class_name:
                owner = getattr(owner, class_name)
            if hasattr(owner, attribute):
                setattr(owner, attribute, self.wrap(getattr(owner, attribute), label))
        gc.callbacks.append(self.count_collections)
        renderer.render = self.wrap(renderer.render, "drawing (Renderer.render)")
        storage.put = self.wrap(storage.put, "storage writes")
        if hasattr(storage, "put_many"):
            storage.put_many = self.wrap(storage.put_many, "storage writes")


def run_chunk(app, chunk: list[int], out: Path, profile: bool, fork: bool = True) -> None:
    """Fork a work horse for one chunk, as rq does; the child times (and maybe profiles) the job.
    `fork=False`: the chunk runs in this process (what the fork and its page copies cost shows as
    the difference).

    Without cProfile, the child splits its CPU time by component with cheap wrappers (see
    TIMED), so the split is not skewed by the profiler's overhead.
    """
    from tcma.jobs.render import render_assets
    from tcma.state import app_state
    from tcma.storage import get_storage

    pid = os.fork() if fork else 0
    if pid == 0:  # a child's CPU clock starts at zero: the horse's own time, fork included
        code = 0
        start = 0.0 if fork else time.process_time()
        try:
            with app.app_context():
                clock = ComponentClock()
                if not profile:
                    clock.install(app_state().renderer, get_storage())
                profiler = cProfile.Profile(time.process_time) if profile else None
                began = time.process_time()
                if profiler:
                    profiler.enable()
                render_assets(chunk)
                if profiler:
                    profiler.disable()
                job = time.process_time() - began
            horse = time.process_time() - start
            if profiler:
                profiler.dump_stats(str(out))
            out.with_suffix(".json").write_text(json.dumps({"job": job, "horse": horse, **clock.seconds}))
        except BaseException:  # noqa: BLE001 - reported by the exit status
            import traceback

            traceback.print_exc()
            code = 1
        if not fork:
            if code:
                raise SystemExit(f"chunk {chunk[0]}-{chunk[-1]} failed")
            return
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if status:
        raise SystemExit(f"chunk {chunk[0]}-{chunk[-1]} failed")


def main() -> None:
    """Seed, launch, render every chunk in forked horses under cProfile; print the breakdown."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--partners", type=int, default=200)
    parser.add_argument("--stats", default=None, help="write the merged profile here")
    parser.add_argument("--profile", action="store_true", help="also run each job under cProfile")
    parser.add_argument("--no-fork", action="store_true",
                        help="run the chunks in this process (no work horse): the fork costs the difference")
    args = parser.parse_args()
    name = f"tcma_prof_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    workdir = tempfile.mkdtemp(prefix="tcma-prof-")
    env = dict(TCMA_DATABASE_URL=PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", TCMA_REDIS_URL=REDIS_URL,
               TCMA_STORAGE="local", TCMA_STORAGE_PATH=f"{workdir}/files",
               TCMA_SECRET_KEY="bench-" + "x" * 40, TCMA_PUBLIC_URL="http://bench.test")
    os.environ.update(env)
    Redis.from_url(REDIS_URL).flushdb()
    import subprocess

    try:
        subprocess.run([str(Path(sys.executable).with_name("tcma")), "db", "upgrade"],
                       env=dict(os.environ), check=True, capture_output=True)
        profile_launch(args, workdir)
    finally:
        Redis.from_url(REDIS_URL).flushdb()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def profile_launch(args: argparse.Namespace, workdir: str) -> None:
    """The launch and the profiled chunks (inside the scratch database)."""
    from tcma import create_app
    from tcma.config import get_settings
    from tcma.extensions import db
    from tcma.models import Asset
    from tcma.services.accounts.auth import Principal
    from tcma.services.catalogue.templates import import_catalogue, warm_templates
    from tcma.services.launch import launches as campaign_service
    from tcma.services.launch.renders import freeze_warm_objects, warm_renderer
    from tcma.services.transaction import release_connections_at_fork

    app = create_app()
    with app.app_context():
        seed(args.partners)
        import_catalogue()
        operator = Principal(None, "admin")
        campaign = campaign_service.create_campaign(operator, "Profile launch", OUTPUTS, {})
        campaign_service.launch_campaign(operator, campaign.id)
        ids = list(db.session.scalars(select(Asset.id).where(Asset.campaign_id == campaign.id)
                                      .order_by(Asset.id)))
        size = get_settings().render_chunk
        warm_templates()
        warm_renderer()
        release_connections_at_fork()
        freeze_warm_objects()
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
    files = []
    for number, chunk in enumerate(chunks):
        files.append(Path(workdir) / f"chunk-{number}.prof")
        run_chunk(app, chunk, files[-1], args.profile, fork=not args.no_fork)
    with app.app_context():
        failed = db.session.scalar(select(Asset.id).where(Asset.status != "done").limit(1))
    if failed:
        raise SystemExit(f"asset {failed} did not end done")
    timings = [json.loads(f.with_suffix(".json").read_text()) for f in files]
    per_asset = {key: sum(t.get(key, 0.0) for t in timings) * 1000 / len(ids)
                 for key in dict.fromkeys(k for t in timings for k in t)}
    print(f"{len(ids)} assets in {len(chunks)} chunks, CPU ms per asset"
          f"{' (under cProfile)' if args.profile else ''}:")
    if not args.profile:
        named = sum(v for k, v in per_asset.items() if k not in {"job", "horse"})
        per_asset[MAIN] = per_asset["job"] - named
        outside = "horse outside the job (fork, app context)"
        per_asset[outside] = per_asset["horse"] - per_asset["job"]
        draw = per_asset.get("drawing (Renderer.render)", 0.0)
        per_asset["horse total minus drawing"] = per_asset["horse"] - draw
        for key, value in per_asset.items():
            if key not in {"job", "horse"}:
                print(f"{value:8.3f}  {key}")
        print(f"{per_asset['horse']:8.3f}  horse total")
    if args.profile:
        stats = pstats.Stats(*(str(f) for f in files))
        for label, value in breakdown(stats, len(ids)):
            print(f"{value:8.3f} ms/asset  {label}")
        if args.stats:
            stats.dump_stats(args.stats)


if __name__ == "__main__":
    main()
