"""scripts/bench peer: Pillow with JPEG draft mode, one process over all files.

usage: python pillow_thumbs.py OUTDIR FILE...
"""

import os
import sys

from PIL import Image, ImageOps


def main() -> int:
    if len(sys.argv) < 3:
        print("usage: pillow_thumbs.py OUTDIR FILE...", file=sys.stderr)
        return 2
    out, files = sys.argv[1], sys.argv[2:]
    os.makedirs(out, exist_ok=True)
    for path in files:
        stem = os.path.splitext(os.path.basename(path))[0]
        with Image.open(path) as im:
            im.draft("RGB", (256, 256))  # DCT scaling: decode at 1/2, 1/4 or 1/8
            im = ImageOps.exif_transpose(im)  # EXIF orientation, as thumbs does
            im = im.convert("RGB")
            im.thumbnail((256, 256), Image.Resampling.LANCZOS)
            im.save(os.path.join(out, stem + ".jpg"), "JPEG", quality=80)
    return 0


if __name__ == "__main__":
    sys.exit(main())
