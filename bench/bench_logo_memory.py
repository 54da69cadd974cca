"""Peak memory of accepting the worst logo upload, against bare Pillow decoding the same file.

The worst accepted upload is the largest image the pixel cap lets through, as a PNG with an
alpha channel (the format Pillow cannot decode reduced). Each measurement runs in a fresh
process whose peak RSS (VmHWM) is reset after the imports; value and floor are megabytes of peak
above the resident size at that moment.
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
import io, json, sys
from PIL import Image
import renderers

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB -> MB

data = open(sys.argv[2], "rb").read()
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) after the imports
base = status("VmRSS")
if sys.argv[1] == "floor":
    Image.open(io.BytesIO(data)).load()  # bare Pillow decoding the same file, nothing more
else:
    renderers.load_logo(data)
print(json.dumps({"above_baseline_mb": status("VmHWM") - base}))
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
    print(f"worst accepted logo: {side}x{side} RGBA PNG, {size / 1e6:.1f} MB; load_logo peak "
          f"{ours:.1f} MB above baseline (must stay < 100 MB); bare Pillow decode {floor:.1f} MB")
    path.unlink()
    if ours >= 100:
        raise SystemExit(f"load_logo peaked {ours:.1f} MB above baseline: the limit is 100 MB")
    # The ratio against a bare decode of the same file: validation, trimming and scaling cost.
    write(args.out, [entry("worst logo upload, peak memory above baseline (< 100 MB)", "MB", ours, floor,
                           4.0, "lower")])


if __name__ == "__main__":
    main()
