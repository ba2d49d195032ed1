#!/usr/bin/env bash
# Whole epochs of part 2's VAE, ours against the post's PyTorch loop, alternately (not part of CI; needs python3-torch):
#   bench/compare_vae_epochs.sh [PAIRS=2] [EPOCHS=2] [THREADS=2]
# Ours: ldm-bench --vae-epochs (ldm vae train's loop with the post's settings, channels-last by default, validated and
# checkpointed every epoch); OURS_ARGS="--nchw" for the post's layout. PyTorch: bench/pytorch_vae_epoch.py --epochs (the
# post's loop and validation block every epoch). Each run: one untimed epoch, then EPOCHS timed. Writes
# bench/results/vae-epochs-<timestamp>.json (per pair: the median epoch of each side, their ratio, the load) and prints a table.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pairs=${1:-2}
epochs=${2:-2}
threads=${3:-2}
source "$root/bench/compare_common.sh"     # python, out, stamp, ours (built)
data="$root/data/mnist"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for p in $(seq 1 "$pairs"); do
    echo "pair $p/$pairs: ours" >&2
    cut -d' ' -f1 /proc/loadavg > "$tmp/load-ours-$p"
    LDM_GLIBC_MALLOC=keep dotnet "$ours" --threads "$threads" --vae-epochs "$epochs" --data "$data" ${OURS_ARGS:-} > "$tmp/ours-$p.json"
    echo "pair $p/$pairs: PyTorch" >&2
    cut -d' ' -f1 /proc/loadavg > "$tmp/load-pt-$p"
    "$python" "$root/bench/pytorch_vae_epoch.py" --epochs "$epochs" --threads "$threads" --data "$data" > "$tmp/pt-$p.json"
done
"$python" - "$tmp" "$pairs" "$out/vae-epochs-$stamp.json" "${OURS_ARGS:-}" <<'PY'
import json, statistics, sys
tmp, pairs, path, ours_args = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = []
for p in range(1, pairs + 1):
    ours = json.load(open(f"{tmp}/ours-{p}.json")); pt = json.load(open(f"{tmp}/pt-{p}.json"))
    load = (open(f"{tmp}/load-ours-{p}").read().strip(), open(f"{tmp}/load-pt-{p}").read().strip())
    rows.append({"ours_epoch_s": ours["median_epoch_seconds"], "pytorch_epoch_s": pt["median_epoch_seconds"],
                 "ratio": ours["median_epoch_seconds"] / pt["median_epoch_seconds"], "ours": ours, "pytorch": pt, "load_before": load})
result = {"pairs": rows, "median_ratio": statistics.median(r["ratio"] for r in rows), "ours_args": ours_args}
json.dump(result, open(path, "w"), indent=2)
print("pair  ours s/epoch  PyTorch s/epoch   ratio  load before")
for i, r in enumerate(rows, 1):
    print(f"{i:4d}  {r['ours_epoch_s']:12.1f}  {r['pytorch_epoch_s']:15.1f}  {r['ratio']:6.3f}  {r['load_before'][0]}/{r['load_before'][1]}")
print(f"vae whole epochs: median ratio ours/PyTorch {result['median_ratio']:.3f}; {path}")
PY
