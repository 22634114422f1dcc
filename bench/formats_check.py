"""Formats end to end: photos uploaded to a thumbs-local started here, every size fetched over HTTP.

For each photo and size: the negotiated URL with real browsers' and curl's Accept strings (right
Content-Type, `Vary: Accept`, one ETag per format), `{size}.jpg/.webp/.avif` (decoded, right
size), and bytes and SSIM of the WebP and AVIF against the JPEG. The SSIM here is deliberately not
the one the encoder searches with: 7x7 uniform window on BT.601 luma, against Pillow's Lanczos
resize of a full decode. A row ending in "<-- miss" is a format that is not >= 20 % smaller at no
lower SSIM.

Usage (Pillow and numpy from the venv `scripts/bench` makes; `avifdec` from libavif-bin):
    .venv/bin/python bench/formats_check.py target/debug/thumbs-local PHOTO.jpg...
    AVIF=true ...   (start with AvifEnabled=true: AVIF clients get AVIF from the negotiated URL)
"""
import json, os, subprocess, sys, tempfile, time, urllib.request, io
import numpy as np
from PIL import Image

BIN, PHOTOS, AVIF = sys.argv[1], sys.argv[2:], os.environ.get("AVIF", "false")
if not PHOTOS:
    sys.exit(__doc__)
work = tempfile.mkdtemp()
ready = os.path.join(work, "ready.json")
proc = subprocess.Popen([BIN, "--port", "0", "--s3-port", "0", "--data-dir", work + "/d",
                         "--ready-file", ready, "--parameter", f"AvifEnabled={AVIF}"],
                        stdout=open(work + "/log", "w"), stderr=subprocess.STDOUT)
for _ in range(600):
    if os.path.exists(ready): break
    time.sleep(0.1)
r = json.load(open(ready))
api, key = r["api_url"].rstrip("/"), r.get("api_key")

def req(method, url, body=None, headers=None):
    rq = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(rq, timeout=120) as resp:
            return resp.status, {k.title(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.title(): v for k, v in e.headers.items()}, e.read()

def upload(data):
    """POST /images, or the presigned PUT from POST /uploads for a file over the Lambda payload
    limit (base64 makes a body 4/3 larger; POST /images answers 413 above about 4.4 MB)."""
    if len(data) <= 4_400_000:
        st, h, b = req("POST", api + "/images", data, {"Content-Type": "image/jpeg", "x-api-key": key})
        if st not in (200, 201, 202):
            sys.exit(f"POST /images: {st} {b[:300]!r}")
        return json.loads(b)["id"]
    ask = json.dumps({"content_type": "image/jpeg", "bytes": len(data)}).encode()
    st, h, b = req("POST", api + "/uploads", ask, {"Content-Type": "application/json", "x-api-key": key})
    if st not in (200, 201):
        sys.exit(f"POST /uploads: {st} {b[:300]!r}")
    presigned = json.loads(b)
    st, h, b = req("PUT", presigned["url"], data, presigned["headers"])
    if st != 200:
        sys.exit(f"presigned PUT: {st} {b[:300]!r}")
    return presigned["id"]

ACCEPTS = {
    "chrome": ("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", "avif" if AVIF == "true" else "webp"),
    "firefox": ("image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5", "avif" if AVIF == "true" else "webp"),
    "safari17": ("image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5", "avif" if AVIF == "true" else "webp"),
    "safari13": ("image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5", "jpeg"),
    "curl": ("*/*", "jpeg"),
    "none": (None, "jpeg"),
    "avif-refused": ("image/avif;q=0,image/webp", "webp"),
    "webp-q0": ("image/webp;q=0,image/*", "jpeg"),
}
MIME = {"jpeg": "image/jpeg", "webp": "image/webp", "avif": "image/avif"}

def decode(data, fmt):
    if fmt == "avif":
        p = os.path.join(work, "x.avif"); open(p, "wb").write(data)
        subprocess.run(["avifdec", "-d", "8", p, p + ".png"], check=True, capture_output=True)
        return Image.open(p + ".png").convert("L")
    return Image.open(io.BytesIO(data)).convert("L")

def ssim(a, b):
    a = np.asarray(a, dtype=np.float64); b = np.asarray(b, dtype=np.float64)
    from numpy.lib.stride_tricks import sliding_window_view as sw
    C1, C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    wa, wb = sw(a, (7, 7)), sw(b, (7, 7))
    ma, mb = wa.mean((-1, -2)), wb.mean((-1, -2))
    va, vb = wa.var((-1, -2)), wb.var((-1, -2))
    cov = ((wa - ma[..., None, None]) * (wb - mb[..., None, None])).mean((-1, -2))
    return float((((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma ** 2 + mb ** 2 + C1) * (va + vb + C2))).mean())

bad = 0
for photo in PHOTOS:
    data = open(photo, "rb").read()
    iid = upload(data)
    for _ in range(600):
        st, h, b = req("GET", f"{api}/images/{iid}")
        if json.loads(b).get("status") == "ready": break
        time.sleep(0.2)
    ref_full = Image.open(photo); ref_full.draft(None, None)
    from PIL import ImageOps
    ref_full = ImageOps.exif_transpose(ref_full).convert("RGB")
    for size in (128, 256, 512):
        etags, got = {}, {}
        for name, (accept, want) in ACCEPTS.items():
            hdr = {} if accept is None else {"Accept": accept}
            st, h, b = req("GET", f"{api}/images/{iid}/{size}", None, hdr)
            ct = h.get("Content-Type"); vary = h.get("Vary", "")
            ok = st == 200 and ct == MIME[want] and "accept" in vary.lower()
            if not ok:
                bad += 1; print("FAIL negotiate", os.path.basename(photo), size, name, st, ct, vary)
            etags.setdefault(ct, set()).add(h.get("Etag"))
        if len({e for s in etags.values() for e in s}) != len(etags):
            bad += 1; print("FAIL etags", etags)
        for fmt, ext in (("jpeg", "jpg"), ("webp", "webp"), ("avif", "avif")):
            st, h, b = req("GET", f"{api}/images/{iid}/{size}.{ext}")
            if st != 200 or h.get("Content-Type") != MIME[fmt]:
                bad += 1; print("FAIL ext", fmt, st, h.get("Content-Type")); continue
            got[fmt] = b
        img = decode(got["jpeg"], "jpeg")
        w, hh = img.size
        if max(w, hh) != min(size, max(ref_full.size)):
            bad += 1; print("FAIL size", w, hh, size)
        ref = ref_full.resize((w, hh), Image.LANCZOS).convert("L")
        sj = ssim(ref, img)
        line = f"{os.path.basename(photo)[:28]:28} {size:4} jpeg {len(got['jpeg']):7} {sj:.4f}"
        for fmt in ("webp", "avif"):
            im = decode(got[fmt], fmt)
            if im.size != (w, hh): bad += 1; print("FAIL size", fmt, im.size)
            s = ssim(ref, im); ratio = len(got[fmt]) / len(got["jpeg"])
            flag = "" if (ratio <= 0.8 and s >= sj) else "  <-- miss"
            line += f" | {fmt} {ratio:.3f} {s - sj:+.4f}{flag}"
        print(line, flush=True)
proc.terminate()
print("negotiation/etag/size failures:", bad)
sys.exit(1 if bad else 0)
