#!/usr/bin/env bash
# One GPU call's training check: train AMNet (paper profile, our recipe, the training collection)
# for about TRAIN_SECONDS, then the stream diagnostics on the val split, all inside BUDGET seconds.
#
#   DATA=.devdata/train bash tools/device_check.sh           # on the GPU machine, into $OUT
#   DEVICE=cpu PROFILE=cpu STEPS_OVERRIDE=3 OUT=/tmp/devout PYTHON=.venv/bin/python \
#       bash tools/device_check.sh                           # a dry run of every stage here
#
# Stages, each under `timeout` so the whole script ends inside BUDGET:
#   1. what the machine is (GPU, torch, CUDA, cores, /dev/shm) and that the package imports;
#   2. the crop caches (the train and val splits at the profile's T, val at the cpu profile's
#      T for the shipped weights), built in parallel, in $AMNET_EDU_CACHE;
#   3. a throughput probe: PROBE_STEPS steps of the same run in another folder, giving s/step;
#   4. the run itself, its --steps chosen from the probe so that it ends in about TRAIN_SECONDS
#      (a run cannot be resumed with other --steps, so they are fixed before it starts);
#   5. its samples/s, its best weights exported (with the history json), the diagnostics of its
#      last.pt and best.pt and of the shipped cpu weights, on the val split.
# $OUT gets device_check.log, record.json, last.pt (resumable), amnet_<profile>_<device>.pt and
# its _history.json, probe_history.json and diagnostics.json.
#
# DATA: a training collection (a folder with index.tsv, or one holding train/index.tsv); made
# small enough to travel by tools/pack_collection.sh. The package need not be installed: the
# repository root goes on PYTHONPATH. EXTRA_TRAIN_ARGS (e.g. "--model-set motion_pyramid=none")
# go to both training runs. The other knobs (BUDGET, TRAIN_SECONDS, WORKERS, PROBE_STEPS, ...)
# are read below with their defaults.
set -uo pipefail

START=$(date +%s)
BUDGET=${BUDGET:-510}               # seconds, the whole script
TRAIN_SECONDS=${TRAIN_SECONDS:-360} # the run's training loop, at most
DIAG_RESERVE=${DIAG_RESERVE:-80}    # kept for stage 5
PYTHON=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
PROFILE=${PROFILE:-paper}
KIND=${KIND:-amnet}
RECIPE=${RECIPE:-ours}
MIX=${MIX:-collection=0.9,synthetic=0.1}
BATCH=${BATCH:-16}
NPROC=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)   # nproc alone honours OMP_NUM_THREADS
WORKERS=${WORKERS:-$(( NPROC > 3 ? NPROC - 2 : 1 ))}
PROBE_STEPS=${PROBE_STEPS:-120}
STEPS_OVERRIDE=${STEPS_OVERRIDE:-}  # set: no probe, the run takes this many steps
EXTRA_TRAIN_ARGS=${EXTRA_TRAIN_ARGS:-}
DIAG_ARGS=${DIAG_ARGS:-}            # e.g. "--pairs 16" (the weights README's tables)
DATA=${DATA:-.devdata/train}
OUT=${OUT:-/tmp/device_check_out}
RUNS=${RUNS:-/tmp/amnet_device_check}

DEADLINE=$(( START + BUDGET ))
left() { echo $(( DEADLINE - $(date +%s) )); }
say() { echo "[$(( $(date +%s) - START ))s] $*"; }

mkdir -p "$OUT" "$RUNS"
exec > >(tee -a "$OUT/device_check.log") 2>&1
TEE_PID=$!
trap 'exec >&- 2>&-; wait "$TEE_PID" 2>/dev/null' EXIT   # the log complete before the script ends

if [ ! -f "$DATA/index.tsv" ] && [ -f "$DATA/train/index.tsv" ]; then
    DATA=$DATA/train
fi
[ -f "$DATA/index.tsv" ] || { say "no training collection at $DATA (no index.tsv)"; exit 2; }
DATA=$(cd "$DATA" && pwd)
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export AMNET_EDU_TRAIN_DATA=$DATA
# the crop caches: about 15 GB at the paper profile (T = 64): /tmp, or the repository's disk if
# /tmp has less than 24 GB free
if [ -z "${AMNET_EDU_CACHE:-}" ]; then
    AMNET_EDU_CACHE=/tmp/amnet_edu_cache
    if [ "$(df -Pk /tmp | awk 'NR == 2 { print $4 }')" -lt $(( 24 * 1024 * 1024 )) ] &&
       [ "$(df -Pk . | awk 'NR == 2 { print $4 }')" -gt "$(df -Pk /tmp | awk 'NR == 2 { print $4 }')" ]; then
        AMNET_EDU_CACHE=$PWD/.amnet_edu_cache
    fi
fi
export AMNET_EDU_CACHE
# what the stages' functions (run by bash -c under timeout) read
export START PYTHON DEVICE PROFILE KIND RECIPE MIX BATCH WORKERS EXTRA_TRAIN_ARGS
rm -rf "$RUNS/probe" "$RUNS/main" "$RUNS"/diag_*.json

# stage NAME SECONDS COMMAND...: run COMMAND under a timeout, report its status and time
stage() {
    local name=$1 limit=$2 t0 rc
    shift 2
    if [ "$limit" -lt 5 ]; then
        say "== $name: skipped, ${limit}s left for it"
        return 124
    fi
    say "== $name (at most ${limit}s)"
    t0=$(date +%s)
    # through bash -c, so COMMAND may be one of the functions below (exported); timeout ends the
    # whole process group at the limit (DataLoader workers, background cache builds)
    timeout -k 10 "$limit" bash -c '"$@"' "$name" "$@"
    rc=$?
    say "== $name: exit $rc after $(( $(date +%s) - t0 ))s"
    return $rc
}

say "device_check: device $DEVICE, profile $PROFILE, kind $KIND, recipe $RECIPE, mix $MIX, batch $BATCH," \
    "workers $WORKERS, budget ${BUDGET}s, training ${TRAIN_SECONDS}s, data $DATA, cache $AMNET_EDU_CACHE"
say "commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); changed: $(git status --short 2>/dev/null | wc -l) files"

# --- 1. the machine ----------------------------------------------------------------------------
if command -v nvidia-smi >/dev/null; then
    nvidia-smi -L
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
fi
echo "cores $NPROC; $(free -g | awk '/Mem:/ {print "memory " $2 " GiB"}')"
df -h /dev/shm /tmp "$RUNS" 2>/dev/null | sed 's/^/  /'
stage "imports" 120 "$PYTHON" - "$DEVICE" <<'EOF' || exit 3
import platform, sys
import cv2, numpy, torch
import amnet_edu.evaluate.diagnostics, amnet_edu.train.cli, amnet_edu.train.export  # noqa: F401
import skimage  # the synthetic sequences' photographs
print(f"Python {platform.python_version()}, torch {torch.__version__} (CUDA {torch.version.cuda}, "
      f"cuDNN {torch.backends.cudnn.version()}), numpy {numpy.__version__}, opencv {cv2.__version__}, "
      f"scikit-image {skimage.__version__}")
dev = torch.device(sys.argv[1])
if dev.type == "cuda":
    if not torch.cuda.is_available():
        sys.exit("CUDA is not available to torch")
    p = torch.cuda.get_device_properties(dev)
    print(f"{p.name}: {p.total_memory / 2**30:.0f} GiB, {p.multi_processor_count} SMs, capability {p.major}.{p.minor}")
EOF

# --- 2. crop caches ----------------------------------------------------------------------------
cache() {  # split profile
    "$PYTHON" -c '
import sys, time
from amnet_edu.config import get_config
from amnet_edu.train.sources import collection_sources
split, profile = sys.argv[1:]
t = time.time()
srcs = collection_sources(split, get_config(profile).template_size, log=None)
c = srcs[0].cache
print(f"cache {split}/{profile}: {len(srcs)} sequences, {len(c.seq)} regions of {c.size} px, "
      f"{c.nbytes / 2**30:.2f} GiB, {time.time() - t:.0f} s: {c.path.name}")
' "$@"
}
cache_all() {
    local pids=() rc=0 p
    cache val "$PROFILE" & pids+=($!)
    if [ "$PROFILE" != cpu ]; then cache val cpu & pids+=($!); fi
    cache train "$PROFILE" || rc=$?
    for p in "${pids[@]}"; do wait "$p" || rc=$?; done
    return $rc
}
export -f say cache cache_all
stage "crop caches" $(( $(left) - DIAG_RESERVE - 60 )) cache_all || exit 4

# --- 3. throughput probe, 4. the run -----------------------------------------------------------
train_cmd() {  # out steps val_every [more args]
    local out=$1 steps=$2 every=$3
    shift 3
    # shellcheck disable=SC2086  # EXTRA_TRAIN_ARGS is a list of arguments
    OPENCV_FOR_THREADS_NUM=${OPENCV_FOR_THREADS_NUM:-1} "$PYTHON" -m amnet_edu.cli train --kind "$KIND" \
        --profile "$PROFILE" --recipe "$RECIPE" --mix "$MIX" --batch-size "$BATCH" --device "$DEVICE" \
        --workers "$WORKERS" --steps "$steps" --val-every "$every" --out "$out" --no-progress \
        $EXTRA_TRAIN_ARGS "$@"
}
export -f train_cmd
# timing RUN_DIR [WALL]: print a run's samples/s from its last.pt history; write the history to
# RUN_DIR/history.json and "s_step s_val startup" to RUN_DIR/timing.txt: seconds per training
# step and per validation (+ checkpoint) after the warm-up, and WALL (the command's seconds)
# minus the training loop's
timing() {
    "$PYTHON" - "$BATCH" "$@" <<'EOF'
import json, statistics, sys
from pathlib import Path
import torch
batch, run = int(sys.argv[1]), Path(sys.argv[2])
wall = float(sys.argv[3]) if len(sys.argv) > 3 else None
hist = json.loads(torch.load(run / "last.pt", map_location="cpu", weights_only=True)["history"])
(run / "history.json").write_text(json.dumps(hist))
steps, secs = [h["step"] for h in hist], [h["seconds"] for h in hist]
# a record's "seconds" is taken before its validation and checkpoint: they fall in the next step's
k = max(len(hist) // 4, 1)               # the first quarter warms up (workers start, kernels load)
plain, after_val = [], []
for i in range(k, len(hist)):
    (after_val if "val_loss" in hist[i - 1] else plain).append(secs[i] - secs[i - 1])
s_step = statistics.mean(plain) if plain else secs[-1] / steps[-1]
s_val = max(statistics.mean(after_val) - s_step, 0.0) if after_val else 0.0
print(f"{run.name}: {steps[-1]} steps x {batch} in {secs[-1]:.1f} s of training loop: "
      f"{steps[-1] * batch / secs[-1]:.1f} samples/s overall; after step {steps[k - 1]}: "
      f"{batch / s_step:.1f} samples/s ({s_step * 1000:.1f} ms/step), {s_val:.2f} s per validation"
      + (f"; wall {wall:.0f} s, start-up {wall - secs[-1]:.0f} s" if wall else ""))
(run / "timing.txt").write_text(f"{s_step:.6f} {s_val:.3f} {(wall - secs[-1]) if wall else 0:.1f}\n")
EOF
}

VALIDATIONS=${VALIDATIONS:-20}   # in the run (its --val-every = steps / VALIDATIONS)
if [ -n "$STEPS_OVERRIDE" ]; then
    STEPS=$STEPS_OVERRIDE
    say "steps $STEPS (STEPS_OVERRIDE), no probe"
else
    t0=$(date +%s)
    probe_every=$(( PROBE_STEPS / 3 ))
    stage "throughput probe, $PROBE_STEPS steps" $(( $(left) - DIAG_RESERVE - 120 )) \
        train_cmd "$RUNS/probe" "$PROBE_STEPS" "$probe_every"
    probe_rc=$?
    wall=$(( $(date +%s) - t0 ))
    if [ $probe_rc -ne 0 ] && [ ! -f "$RUNS/probe/last.pt" ] && [ "$WORKERS" -gt 0 ]; then
        say "probe failed before its first checkpoint; again without DataLoader workers"
        export WORKERS=0
        t0=$(date +%s)
        stage "throughput probe, workers 0" $(( $(left) - DIAG_RESERVE - 120 )) \
            train_cmd "$RUNS/probe" "$PROBE_STEPS" "$probe_every"
        wall=$(( $(date +%s) - t0 ))
    fi
    [ -f "$RUNS/probe/last.pt" ] || { say "the probe saved no checkpoint: no timing, stopping"; exit 5; }
    timing "$RUNS/probe" "$wall" || { say "no timing from the probe, stopping"; exit 5; }
    read -r s_step s_val startup < "$RUNS/probe/timing.txt"
    cp "$RUNS/probe/history.json" "$OUT/probe_history.json"
    # the loop gets what is left after the reserve and a start-up as long as the probe's (+ 10 s),
    # at most TRAIN_SECONDS, less its validations
    STEPS=$("$PYTHON" -c "
import sys
s_step, s_val, startup, left, cap, reserve, n_val = map(float, sys.argv[1:])
loop = min(cap, left - reserve - startup - 10)
print(max(int((loop - (n_val + 1) * s_val) / s_step), 10))" \
        "$s_step" "$s_val" "$startup" "$(left)" "$TRAIN_SECONDS" "$DIAG_RESERVE" "$VALIDATIONS")
    say "steps $STEPS: about $(awk -v n="$STEPS" -v s="$s_step" -v v="$s_val" -v m="$VALIDATIONS" \
        'BEGIN { printf "%.0f", n * s + (m + 1) * v }') s of training loop at" \
        "$(awk -v s="$s_step" 'BEGIN { printf "%.1f", s * 1000 }') ms/step and ${s_val}s per validation," \
        "after a start-up as the probe's (${startup}s)"
fi
VAL_EVERY=${VAL_EVERY:-$(( STEPS / VALIDATIONS > 10 ? STEPS / VALIDATIONS : (STEPS < 10 ? STEPS : 10) ))}
stage "training, $STEPS steps, validation every $VAL_EVERY" $(( $(left) - DIAG_RESERVE )) \
    train_cmd "$RUNS/main" "$STEPS" "$VAL_EVERY"
[ -f "$RUNS/main/last.pt" ] || { say "the run saved no checkpoint"; exit 6; }

# --- 5. results --------------------------------------------------------------------------------
timing "$RUNS/main"
[ -f "$RUNS/main/record.json" ] && cp "$RUNS/main/record.json" "$OUT/"
cp "$RUNS/main/last.pt" "$OUT/last.pt"
NAME=${KIND}_${PROFILE}_${DEVICE%%:*}
stage "export best weights" $(( $(left) < 60 ? $(left) : 60 )) "$PYTHON" -m amnet_edu.train.export "$RUNS/main" "$OUT/$NAME.pt"

# shellcheck disable=SC2086  # DIAG_ARGS is a list of arguments
diag() {  # label weights
    stage "diagnostics: $1" $(( $(left) - 5 )) "$PYTHON" -m amnet_edu.cli diagnose "$2" --split val \
        --data "$DATA" --json "$RUNS/diag_$1.json" $DIAG_ARGS
}
diag last "$RUNS/main/last.pt"
read -r best_step last_step < <("$PYTHON" -c "
import sys, torch
print(*(torch.load(f, weights_only=True).get('step') for f in sys.argv[1:]))" "$RUNS/main/best.pt" "$RUNS/main/last.pt")
if [ -n "$best_step" ] && [ "$best_step" != "$last_step" ]; then
    diag "best_step$best_step" "$RUNS/main/best.pt"
else
    say "best.pt is last.pt's step ($last_step): diagnosed once"
fi
diag shipped_cpu amnet
"$PYTHON" - "$RUNS" "$OUT/diagnostics.json" <<'EOF'
import json, sys
from pathlib import Path
runs, out = Path(sys.argv[1]), Path(sys.argv[2])
merged = {}
for f in sorted(runs.glob("diag_*.json")):
    label = f.stem[len("diag_"):]
    for weights, result in json.loads(f.read_text()).items():
        merged[label] = {"weights": weights, **result}
out.write_text(json.dumps(merged, indent=1))
print("diagnostics, overall hit rates:")
for label, r in merged.items():
    print(f"  {label:<16} " + " ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                      for k, v in r["overall"].items()))
EOF
say "done, $(left)s of the budget left; in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
