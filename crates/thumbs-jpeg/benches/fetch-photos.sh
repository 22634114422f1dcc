#!/usr/bin/env bash
# Fetches large JPEGs for benches/decode.rs from a Debian package (nothing big is committed):
# ukui-wallpapers (CC-BY-SA-3.0), 3840x2400 / 3640x2400 q99 4:4:4 files, one of them progressive.
# From them it also makes camera-like 4:2:0 q92 baseline and progressive files with cjpeg.
# Needs: apt-get install imagemagick libjpeg-turbo-progs. Usage: benches/fetch-photos.sh [DIR]
set -euo pipefail
dir=${1:-$(cd "$(dirname "$0")/../../.." && pwd)/target/bench-photos}
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download ukui-wallpapers >/dev/null 2>&1 && dpkg -x ukui-wallpapers_*.deb x)
src="$work/x/usr/share/backgrounds"
cp "$src/rhythm.jpg" "$dir/rhythm-progressive-444-q99.jpg"
cp "$src/string.jpg" "$dir/string-baseline-444-q99.jpg"
djpeg -pnm "$src/rhythm.jpg" > "$work/r.ppm"
cjpeg -quality 92 -sample 2x2 "$work/r.ppm" > "$dir/rhythm-baseline-420-q92.jpg"
cjpeg -quality 92 -sample 2x2 -progressive "$work/r.ppm" > "$dir/rhythm-progressive-420-q92.jpg"
cjpeg -quality 100 -sample 2x1 -progressive "$work/r.ppm" > "$dir/rhythm-progressive-422-q100.jpg"
# 2.3 MP: a 256 px thumbnail needs 1/4 here, not 1/8.
convert "$work/r.ppm" -resize 1920x1200 "$work/s.ppm"
cjpeg -quality 92 -sample 2x2 "$work/s.ppm" > "$dir/small-baseline-420-q92.jpg"
cjpeg -quality 92 -sample 2x2 -progressive "$work/s.ppm" > "$dir/small-progressive-420-q92.jpg"
ls -la "$dir"
