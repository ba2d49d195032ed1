#!/usr/bin/env bash
# Same-machine comparison of one training step, ours against the post's loop body in PyTorch, run ALTERNATELY so that
# drift in machine load hits both:
#   unet  part 3's UNet(64, 128) step: ldm-bench --unet-steps  vs  bench/pytorch_unet_step.py (N(0, I) latents)
#   vae   part 2's VAE step on MNIST:  ldm-bench --vae-steps   vs  bench/pytorch_vae_epoch.py
# Each run: WARMUP untimed + STEPS timed steps, batch 128, Adam(1e-3), both on THREADS threads; the ratio ours/PyTorch
# of the median step per pair, then the median of the ratios. The 1-minute load average before each run is recorded:
# above the core count the medians mean little (see bench/README.md). Not part of CI. Needs Debian's python3-torch.
#
#   bench/compare_steps.sh unet|vae [PAIRS=3] [STEPS=100] [THREADS=2] [WARMUP=10]
#   PYTHON=/path/to/python3 bench/compare_steps.sh …             (default /usr/bin/python3)
#   OURS_ARGS="--channels-last" bench/compare_steps.sh vae …     (extra ldm-bench arguments, recorded in the result)
#
# Writes bench/results/<MODEL>-step-<timestamp>.json and prints a table.
set -euo pipefail
model=${1:-}
pairs=${2:-3}
steps=${3:-100}
threads=${4:-2}
warmup=${5:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/data/mnist"
case "$model" in
    # our switch for the timed steps; the PyTorch script and its arguments
    unet) ours_steps=--unet-steps; script=pytorch_unet_step.py; script_args=(--steps "$steps") ;;
    vae) ours_steps=--vae-steps; script=pytorch_vae_epoch.py; script_args=(--batches "$steps" --data "$data") ;;
    *) echo "usage: bench/compare_steps.sh unet|vae [PAIRS=3] [STEPS=100] [THREADS=2] [WARMUP=10]" >&2; exit 2 ;;
esac
source "$root/bench/compare_common.sh"     # python, out, stamp, ours (built)
runs=$(mktemp)
trap 'rm -f "$runs"' EXIT

# One row per run; both programs print the same fields, a step named "step" (UNet) or "batch" (VAE).
summary='import json, statistics, sys
d = json.load(sys.stdin); ms = d["step_ms"] if "step_ms" in d else d["batch_ms"]; s = sorted(ms)
threads = d["runtime"]["torch_threads"] if "runtime" in d else d["torch_threads"]
print(json.dumps({"pair": int(sys.argv[1]), "tool": sys.argv[2], "load1": float(sys.argv[3]), "threads": threads,
                  "median_ms": statistics.median(s), "mean_ms": statistics.mean(s), "min_ms": s[0], "step_ms": ms}))'

for ((pair = 1; pair <= pairs; pair++)); do
    echo "pair $pair/$pairs: ours" >&2
    load=$(cut -d' ' -f1 /proc/loadavg)
    # shellcheck disable=SC2086  # OURS_ARGS is a list of words
    dotnet "$ours" --threads "$threads" "$ours_steps" "$steps" --step-warmup "$warmup" --data "$data" ${OURS_ARGS:-} 2> /dev/null \
        | "$python" -c "$summary" "$pair" ours "$load" >> "$runs"
    echo "pair $pair/$pairs: PyTorch" >&2
    load=$(cut -d' ' -f1 /proc/loadavg)
    "$python" "$root/bench/$script" "${script_args[@]}" --warmup "$warmup" --threads "$threads" \
        | "$python" -c "$summary" "$pair" pytorch "$load" >> "$runs"
done

"$python" - "$runs" "$out/$model-step-$stamp.json" "$model" "${OURS_ARGS:-}" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
table = []
for p in sorted({r["pair"] for r in rows}):
    ours = next(r for r in rows if r["pair"] == p and r["tool"] == "ours")
    torch = next(r for r in rows if r["pair"] == p and r["tool"] == "pytorch")
    table.append({"pair": p, "ours_ms": ours["median_ms"], "pytorch_ms": torch["median_ms"], "ratio": ours["median_ms"] / torch["median_ms"],
                  "ours_min_ms": ours["min_ms"], "pytorch_min_ms": torch["min_ms"], "load1": [ours["load1"], torch["load1"]],
                  "threads": [ours["threads"], torch["threads"]]})
result = {"model": sys.argv[3], "ours_args": sys.argv[4], "pairs": table, "median_ratio": statistics.median(t["ratio"] for t in table), "runs": rows}
json.dump(result, open(sys.argv[2], "w"), indent=1)
print(f"{'pair':>4} {'ours ms/step':>13} {'PyTorch ms/step':>16} {'ratio':>7} {'min ours/PyTorch':>17} {'load before':>12}")
for t in table:
    print(f"{t['pair']:>4} {t['ours_ms']:>13.1f} {t['pytorch_ms']:>16.1f} {t['ratio']:>7.3f} {t['ours_min_ms']:>8.1f}/{t['pytorch_min_ms']:<8.1f} {t['load1'][0]:>5.1f}/{t['load1'][1]:<5.1f}")
print(f"{sys.argv[3]}: median ratio ours/PyTorch: {result['median_ratio']:.3f} (threads ours/PyTorch {table[0]['threads']}); {sys.argv[2]}")
PY
