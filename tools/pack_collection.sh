#!/usr/bin/env bash
# Re-encode the training collection smaller, to send it to a machine that cannot read ../shared
# (the device machine: its transfer is 64 MiB in all, the repository included).
#
#   FFMPEG=/tmp/ffmpeg CRF=30 bash tools/pack_collection.sh [SRC] [DEST]
#
# SRC (default ../shared/data/train) -> DEST (default .devdata/train; keep it out of git, e.g.
# `/.devdata/` in .git/info/exclude). Every sequence keeps its resolution, its frame count (one
# video frame per box, passthrough timing) and its groundtruth.txt, so the boxes stay valid;
# only the H.264 quality drops (CRF 23 -> $CRF). index.tsv is copied; meta.json gets a
# "pack" entry saying how the video was re-encoded. FFMPEG must have libx264 (the static build in
# the imageio-ffmpeg wheel has it). SEQUENCES="A B ..." packs only those (plus every val one).
# Folders already packed are kept (so val and train can get different CRFs: pack the val ones
# first with SEQUENCES=-, then the rest). At the end every packed sequence is decoded through the
# package's loader (PYTHON, default python3, must import amnet_edu from the repository root) and
# checked against the source.
set -euo pipefail

SRC=${1:-../shared/data/train}
DEST=${2:-.devdata/train}
FFMPEG=${FFMPEG:-ffmpeg}
CRF=${CRF:-30}
PRESET=${PRESET:-medium}
THREADS=${THREADS:-1}

case "$("$FFMPEG" -hide_banner -encoders 2>/dev/null)" in *libx264*) ;; *) echo "$FFMPEG: no libx264 encoder" >&2; exit 1 ;; esac
test -f "$SRC/index.tsv" || { echo "$SRC: no index.tsv" >&2; exit 1; }
mkdir -p "$DEST"

# the rows to keep: all val ones, and the train ones in $SEQUENCES (all when it is empty)
awk -F'\t' -v keep="${SEQUENCES:-}" 'BEGIN { n = split(keep, k, " "); for (i = 1; i <= n; i++) want[k[i]] = 1 }
     NR == 1 || $7 == "val" || n == 0 || ($1 in want)' "$SRC/index.tsv" > "$DEST/index.tsv"

tail -n +2 "$DEST/index.tsv" | cut -f1 | while read -r seq; do
    out="$DEST/$seq"
    if [ -f "$out/video.mp4" ] && [ -f "$out/meta.json" ]; then
        continue
    fi
    mkdir -p "$out"
    cp "$SRC/$seq/groundtruth.txt" "$out/"
    "$FFMPEG" -nostdin -hide_banner -loglevel error -y -threads "$THREADS" -i "$SRC/$seq/video.mp4" \
        -map 0:v:0 -an -fps_mode passthrough -c:v libx264 -preset "$PRESET" -crf "$CRF" \
        -x264-params "threads=$THREADS" -pix_fmt yuv420p -movflags +faststart "$out/video.tmp.mp4"
    mv "$out/video.tmp.mp4" "$out/video.mp4"
    python3 - "$SRC/$seq/meta.json" "$out/meta.json" "$CRF" "$PRESET" <<'EOF'
import json, sys
src, dst, crf, preset = sys.argv[1:]
meta = json.load(open(src))
meta["pack"] = {"reencoded_from_crf": meta.get("crf"), "crf": int(crf), "preset": preset,
                "by": "tools/pack_collection.sh"}
meta["crf"] = int(crf)
json.dump(meta, open(dst, "w"), indent=1)
EOF
    echo "$seq: $(stat -c %s "$SRC/$seq/video.mp4") -> $(stat -c %s "$out/video.mp4") bytes"
done
# every packed sequence through the package's loader: the container's frame count matches the
# boxes (load_clip checks it), the boxes are the source's, and a full decode gives that many frames
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" "${PYTHON:-python3}" - "$SRC" "$DEST" <<'EOF'
import sys
import numpy as np
from amnet_edu.data import load_collection
src, dest = sys.argv[1:]
orig = {s.name: s for s in load_collection(src)}
packed = load_collection(dest)
bad = 0
for s in packed:
    n = sum(1 for _ in s.frames())
    same = np.array_equal(s.boxes, orig[s.name].boxes, equal_nan=True)
    if n != len(s.boxes) or n != len(orig[s.name].boxes) or not same:
        bad += 1
        print(f"{s.name} ({s.info['split']}): {n} frames decoded, {len(s.boxes)} boxes, the source's boxes: {same}")
splits = {k: sum(s.info["split"] == k for s in packed) for k in ("train", "val")}
print(f"checked {len(packed)} sequences ({splits['train']} train, {splits['val']} val): "
      + (f"{bad} bad" if bad else "each decodes to its box count, boxes as in the source"))
sys.exit(1 if bad else 0)
EOF
du -sb "$DEST" | awk '{ printf "%s: %.1f MiB\n", $2, $1 / 1048576 }'
