"""scripts/bench peer: Pillow with JPEG draft mode, one process over all files.

usage: python pillow_thumbs.py [--sizes 128,256,512] OUTDIR FILE...

One size (default 256): OUTDIR/<stem>.jpg. Several sizes: the service's way, ONE decode drafted
to the largest size, then a Lanczos thumbnail per size from it, OUTDIR/<stem>-<N>.jpg.
"""

import os
import sys

from PIL import Image, ImageOps


def main() -> int:
    args = sys.argv[1:]
    sizes = [256]
    if len(args) >= 2 and args[0] == "--sizes":
        sizes = sorted(int(s) for s in args[1].split(","))
        args = args[2:]
    if len(args) < 2:
        print("usage: pillow_thumbs.py [--sizes N,N,...] OUTDIR FILE...", file=sys.stderr)
        return 2
    out, files = args[0], args[1:]
    os.makedirs(out, exist_ok=True)
    largest = max(sizes)
    for path in files:
        stem = os.path.splitext(os.path.basename(path))[0]
        with Image.open(path) as im:
            im.draft("RGB", (largest, largest))  # DCT scaling: decode at 1/2, 1/4 or 1/8
            im = ImageOps.exif_transpose(im)  # EXIF orientation, as thumbs does
            im = im.convert("RGB")
            for size in sizes:
                thumb = im.copy() if len(sizes) > 1 else im
                thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
                name = f"{stem}.jpg" if len(sizes) == 1 else f"{stem}-{size}.jpg"
                thumb.save(os.path.join(out, name), "JPEG", quality=80)
    return 0


if __name__ == "__main__":
    sys.exit(main())
