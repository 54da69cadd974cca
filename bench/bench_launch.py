"""Campaign launch throughput: 3 outputs x N partners on 2 rq workers vs bare renderers in 2 processes.

python bench/bench_launch.py --out bench/results.d/bench_launch.json [--partners 1000]
Ours: PostgreSQL (scratch database) + Redis db 14 + 2 `tcma worker` processes + local storage,
timed from the launch call until every asset is done. Floor: the same templates resolved for
partners like the seeded ones (each with its stored light and dark logo), rendered by
`renderers.Renderer` alone in 2 forked processes: each logo decoded once, then the specs drawn
(resolution untimed, and the logo caches it filled emptied, so the floor measures the logos'
ink inside its drawing as ours does). Besides wall-clock rates it prints CPU time per asset of
the workers (horses included) and of the floor: on a shared machine compare those.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from redis import Redis  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

import campaigns  # noqa: E402
import renderers  # noqa: E402
from bench.common import entry, write  # noqa: E402

PG_ADMIN = os.environ.get("TCMA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TCMA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
OUTPUTS = [{"template": "solution-brief", "output": "pdf"},
           {"template": "social-card", "output": "jpg"},
           {"template": "newsletter", "output": "email"}]
WORKERS = 2


def seed(count: int) -> None:
    """Demo vendor with `count` partners, each with its own generated logo."""
    from tcma.demo.seed import seed_demo

    seed_demo(count)


def logo_files_of(index: int) -> list[bytes]:
    """The stored logos (light, and the derived or given dark one) of seeded partner `index`."""
    from tcma.demo.seed import LOGO_KINDS, generate_logo
    from tcma.services.partners.media import logo_files

    upload = generate_logo(f"Partner {index}", "#1F4E79", LOGO_KINDS[index % len(LOGO_KINDS)])
    return list(logo_files(upload, "auto").values())


def profiles_and_specs(partner_range: range) -> tuple[list[bytes], list]:
    """Each partner's stored logo files and resolved render specs (same templates, same outputs)."""
    from tcma.demo.seed import REGIONS

    catalogue = campaigns.load_catalogue(ROOT / "templates")
    logos, specs = [], []
    for index in partner_range:
        files = logo_files_of(index)
        logos += files
        decoded = [renderers.load_logo(data) for data in files]
        brand = renderers.BrandKit(
            f"Partner {index}", "#1f4e79", "#f2a900", decoded[0],
            renderers.Contact("Jane Doe", f"p{index}@example.com", "+1 555 0100", "https://p.example"),
            f"{index} Market Street\nSpringfield", logo_dark=decoded[-1] if len(decoded) > 1 else None)
        locale = REGIONS[index % len(REGIONS)][2]
        profile = campaigns.PartnerProfile(f"Partner {index}", f"p{index}", "gold", "healthcare",
                                           "emea", locale, brand)
        for item in OUTPUTS:
            tpl = catalogue[item["template"]]
            specs.append(campaigns.resolve_request(
                tpl, profile, item["output"], logo_url="http://bench.test/media/l.png",
                logo_dark_url="http://bench.test/media/d.png" if len(decoded) > 1 else "").spec)
    return logos, specs


def floor_worker(args: tuple[int, int]) -> tuple[float, float]:
    """Decode each partner's logos and render its specs with the bare Renderer; (seconds, CPU seconds)."""
    from renderers import placement

    start, stop = args
    logos, specs = profiles_and_specs(range(start, stop))
    renderer = renderers.Renderer()
    warm_logos, warm_specs = profiles_and_specs(range(stop, stop + 1))
    for spec in warm_specs:  # warm caches, as a tcma worker does before forking
        renderer.render(spec)
    # Resolving measured the logos' ink for the emails; ours measures it while it works.
    placement.cached_variants.cache_clear()
    placement._inks.clear()
    began, cpu = time.perf_counter(), time.process_time()
    for logo in logos:  # the renderers need each uploaded logo decoded, as tcma does per chunk
        renderers.load_logo(logo)
    for spec in specs:
        renderer.render(spec)
    return time.perf_counter() - began, time.process_time() - cpu


def measure_floor(count: int) -> tuple[float, float]:
    """Assets per second of the bare renderers in WORKERS processes, and their CPU ms per asset."""
    half = count // WORKERS
    parts = [(i * half, count if i == WORKERS - 1 else (i + 1) * half) for i in range(WORKERS)]
    with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
        results = pool.map(floor_worker, parts)
    assets = count * len(OUTPUTS)
    return assets / max(r[0] for r in results), sum(r[1] for r in results) * 1000 / assets


def _cpu_seconds(pid: int) -> float:
    """A process's CPU time so far, with its reaped children's (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _wait_for_workers(redis_url: str, count: int, seconds: float = 120) -> None:
    """Until `count` rq workers have registered (after their warm-up), or fail."""
    from rq import Worker

    redis = Redis.from_url(redis_url)
    deadline = time.monotonic() + seconds
    while len(Worker.all(connection=redis)) < count:
        if time.monotonic() > deadline:
            raise SystemExit("the bench's workers did not start")
        time.sleep(0.2)


def measure_ours(count: int, env: dict[str, str]) -> tuple[float, int, float]:
    """Assets per second from launch to the last asset done, with WORKERS tcma workers; failed
    assets; the workers' CPU ms per asset (work horses included, start-up excluded)."""
    from tcma import create_app
    from tcma.extensions import db
    from tcma.models import Asset
    from tcma.services.accounts.auth import Principal
    from tcma.services.catalogue.templates import import_catalogue
    from tcma.services.launch import launches as campaign_service

    app = create_app()
    with app.app_context():
        seed(count)
        import_catalogue()
        operator = Principal(None, "admin")
        campaign = campaign_service.create_campaign(operator, "Bench launch", OUTPUTS, {})
        tcma = str(Path(sys.executable).with_name("tcma"))
        workers = [subprocess.Popen([tcma, "worker", "--queue", "render", "--without-scheduler"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for _ in range(WORKERS)]
        _wait_for_workers(REDIS_URL, WORKERS)  # up, templates parsed, outputs warmed
        startup = sum(_cpu_seconds(worker.pid) for worker in workers)
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        campaign_service.launch_campaign(operator, campaign.id)
        total = count * len(OUTPUTS)
        while True:
            db.session.expire_all()
            finished = db.session.scalar(select(func.count()).select_from(Asset).where(
                Asset.status.in_(["done", "failed"])))
            if finished >= total:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - began
        failed = db.session.scalar(select(func.count()).select_from(Asset).where(Asset.status == "failed"))
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (children.ru_utime - children_before.ru_utime + children.ru_stime
               - children_before.ru_stime - startup)
        db.engine.dispose()
    return total / elapsed, failed, cpu * 1000 / total


def main() -> None:
    """Run the floor and ours in the same run; write the entries."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--partners", type=int, default=1000)
    args = parser.parse_args()
    name = f"tcma_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    workdir = tempfile.mkdtemp(prefix="tcma-bench-")
    env = dict(os.environ, TCMA_DATABASE_URL=PG_ADMIN.rsplit("/", 1)[0] + f"/{name}",
               TCMA_REDIS_URL=REDIS_URL, TCMA_STORAGE="local", TCMA_STORAGE_PATH=f"{workdir}/files",
               TCMA_SECRET_KEY="bench-" + "x" * 40, TCMA_PUBLIC_URL="http://bench.test")
    os.environ.update(env)
    Redis.from_url(REDIS_URL).flushdb()
    try:
        subprocess.run([str(Path(sys.executable).with_name("tcma")), "db", "upgrade"], env=env,
                       check=True, capture_output=True)
        floor, floor_cpu = measure_floor(args.partners)
        ours, failed, ours_cpu = measure_ours(args.partners, env)
    finally:
        Redis.from_url(REDIS_URL).flushdb()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    if failed:
        raise SystemExit(f"{failed} assets failed during the bench")
    per_asset_ours = WORKERS * 1000 / ours
    per_asset_floor = WORKERS * 1000 / floor
    overhead = per_asset_ours - per_asset_floor
    print(f"ours {ours:.1f} assets/s, floor {floor:.1f} assets/s; overhead {overhead:.2f} ms/asset")
    print(f"CPU per asset: workers {ours_cpu:.2f} ms (horses included), floor {floor_cpu:.2f} ms; "
          f"overhead {ours_cpu - floor_cpu:.2f} ms")
    write(args.out, [
        entry("launch.assets_per_second", "assets/s", ours, floor, 0.8, "higher"),
        entry("launch.worker_ms_per_asset", "ms", per_asset_ours, per_asset_floor,
              round((per_asset_floor + 10) / per_asset_floor, 2), "lower"),
        # CPU time is what a shared machine does not distort much: overhead target 1.5 ms/asset.
        entry("launch.worker_cpu_ms_per_asset", "ms", ours_cpu, floor_cpu,
              round((floor_cpu + 1.5) / floor_cpu, 2), "lower"),
    ])


if __name__ == "__main__":
    main()
