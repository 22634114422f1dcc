"""Derives the camera-shaped photo sets of docs/performance.md ("twelfth round") from the bench's
own set (the budgie photos that scripts/bench builds), deterministically:

- zone: 10 wide photos, 3008 × 2000 (3:2) and 3264 × 1836 (16:9 crops), whose short side sends
  libjpeg's draft mode to 1/2 while their long side would meet a 1.4× margin at 1/4;
- half: 10 photos of 1920-2400 px that both decoders take at 1/2;
- cam: 7 photos from 2 to 20 MP at quality 85-95, the large ones upscaled with fixed-seed
  Gaussian noise (σ 2) so that they carry a camera's entropy: among them a 20 MP baseline 4:2:2
  q92 file of about 4.4 MB and a 3000 × 2000 progressive 4:2:2 q92 one.

Downscaled photos keep real photographic detail but are sharper than a camera's own output.
Usage: derive_sets.py SET_DIR OUT_DIR NAME   (NAME: zone, half or cam)
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image

# Pillow's `subsampling`: 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0.
S444, S422, S420 = 0, 1, 2


def sources(set_dir: Path) -> list[Path]:
    return sorted(p for p in set_dir.glob("*.jpg") if "big-q100" not in p.name)


def stem(p: Path) -> str:
    return p.stem.replace("-progressive", "")


def zone(set_dir: Path, out: Path) -> None:
    for i, src in enumerate(sources(set_dir)[:10]):
        im = Image.open(src).convert("RGB")
        w, h = im.size
        if i % 2 == 0:
            size = (3008, 2000) if w >= h else (2000, 3008)
            im = im.resize(size, Image.Resampling.LANCZOS)
        else:
            crop = int(w * 9 / 16)
            top = (h - crop) // 2
            im = im.crop((0, top, w, top + crop)).resize((3264, 1836), Image.Resampling.LANCZOS)
        prog = i % 3 != 0
        im.save(out / f"{stem(src)}-{'p' if prog else 'b'}.jpg", "JPEG", quality=[90, 92, 95][i % 3],
                subsampling=[S420, S422, S420][i % 3], progressive=prog)


def half(set_dir: Path, out: Path) -> None:
    for i, src in enumerate(sources(set_dir)[5:15]):
        im = Image.open(src).convert("RGB")
        w, h = im.size
        size = [(2400, 1600), (2048, 1536), (1920, 1280)][i % 3]
        if h > w:
            size = size[::-1]
        prog = i % 4 != 0
        im.resize(size, Image.Resampling.LANCZOS).save(
            out / f"{stem(src)}-{'p' if prog else 'b'}.jpg", "JPEG", quality=[85, 92, 90][i % 3],
            subsampling=[S420, S422, S420][i % 3], progressive=prog)


def cam(set_dir: Path, out: Path) -> None:
    rng = np.random.default_rng(7)
    recipes = [
        ("casa-mila.jpg", (5472, 3648), "b20-422-q92.jpg", 92, S422, False),
        ("lake-sherburne.jpg", (5472, 3648), "p20-420-q92.jpg", 92, S420, True),
        ("beacon-street-sunset.jpg", (4000, 3000), "b12-444-q95.jpg", 95, S444, False),
        ("tea-gardens-progressive.jpg", (4000, 3000), "p12-420-q90.jpg", 90, S420, True),
        ("singaporean-cityscape.jpg", (3000, 2000), "p6-422-q92.jpg", 92, S422, True),
        ("roman-colosseum-progressive.jpg", (1920, 1080), "p2-420-q85.jpg", 85, S420, True),
        ("piazza-gae-aulenti.jpg", (1600, 1200), "b2-420-q90.jpg", 90, S420, False),
    ]
    for name, size, dest, quality, sub, prog in recipes:
        im = Image.open(set_dir / name).convert("RGB").resize(size, Image.Resampling.LANCZOS)
        noise = rng.normal(0, 2.0, (size[1], size[0], 1)).round().astype(np.int16)
        a = np.clip(np.asarray(im, dtype=np.int16) + noise, 0, 255).astype(np.uint8)
        Image.fromarray(a).save(out / dest, "JPEG", quality=quality, subsampling=sub,
                                progressive=prog)


def main() -> int:
    if len(sys.argv) != 4 or sys.argv[3] not in ("zone", "half", "cam"):
        print(__doc__, file=sys.stderr)
        return 2
    set_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    {"zone": zone, "half": half, "cam": cam}[sys.argv[3]](set_dir, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
