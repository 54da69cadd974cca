"""Peak memory of accepting the worst logo upload, against the bare-library floor of opening it.

The worst accepted upload is the largest image the pixel cap lets through, as a PNG with an
alpha channel (the format Pillow cannot decode reduced). Each measurement runs in a fresh
process (ru_maxrss is a high-water mark); value and floor are megabytes above that process's
baseline after imports.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import entry, write  # noqa: E402

PROBE = r"""
import io, json, resource, sys
from PIL import Image
import renderers
from renderers.logos import MAX_LOGO_PIXELS
data = open(sys.argv[2], "rb").read()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if sys.argv[1] == "floor":
    Image.open(io.BytesIO(data)).size  # headers only: what any upload check costs
else:
    renderers.load_logo(data)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"above_baseline_mb": (peak - base) / 1024}))
"""


def worst_upload(path: Path) -> tuple[int, int]:
    """A noisy RGBA PNG at the pixel cap (noise keeps the file from compressing to nothing)."""
    from PIL import Image

    from renderers.logos import MAX_LOGO_PIXELS

    side = int(math.isqrt(MAX_LOGO_PIXELS))
    tile = Image.effect_noise((256, 256), 64).convert("RGBA")
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    for x in range(0, side, 256):
        for y in range(0, side, 256):
            image.paste(tile, (x, y))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    path.write_bytes(out.getvalue())
    return side, len(out.getvalue())


def measure(kind: str, path: Path) -> float:
    done = subprocess.run([sys.executable, "-c", PROBE, kind, str(path)], capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parents[1], check=True)
    return json.loads(done.stdout)["above_baseline_mb"]


def main() -> None:
    """Worst round of alternating measurements: load_logo against opening the headers."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    path = Path(args.out).with_suffix(".png")
    side, size = worst_upload(path)
    rounds = [(measure("ours", path), measure("floor", path)) for _ in range(3)]
    ours = max(r[0] for r in rounds)
    floor = max(max(r[1] for r in rounds), 1.0)
    print(f"worst accepted logo: {side}x{side} RGBA PNG, {size / 1e6:.1f} MB; "
          f"load_logo peak {ours:.1f} MB above baseline (floor {floor:.1f} MB, target < 100 MB)")
    path.unlink()
    write(args.out, [entry("worst logo upload, peak memory above baseline", "MB", ours, floor, 100.0,
                           "lower")])


if __name__ == "__main__":
    main()
