#!/usr/bin/env bash
# Same-machine comparison of the part-3 UNet training step: ours (LatentDiffusion.Bench --unet-steps) and the post's
# loop body in PyTorch (bench/pytorch_unet_step.py), run ALTERNATELY so that drift in machine load hits both. Each run:
# WARMUP untimed + STEPS timed steps of UNet(64, 128), batch 128, Adam; the ratio ours/PyTorch of the median step per
# pair, then the median of the ratios. The 1-minute load average before each run is recorded: above the core count
# the medians mean little (see bench/README.md). Not part of CI. Needs Debian's python3-torch (/usr/bin/python3).
#
#   bench/compare_unet.sh [PAIRS=3] [STEPS=100] [THREADS=2] [WARMUP=10]
#
# Writes bench/results/unet-step-<timestamp>.json and prints a table.
set -euo pipefail
pairs=${1:-3}
steps=${2:-100}
threads=${3:-2}
warmup=${4:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-/usr/bin/python3}
if ! "$python" -c "import torch" 2> /dev/null; then
    echo "compare_unet.sh: $python cannot import torch; apt-get install -y python3-torch" >&2
    exit 2
fi
out="$root/bench/results"
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
runs=$(mktemp)
trap 'rm -f "$runs"' EXIT

dotnet build -c Release "$root/bench/LatentDiffusion.Bench" -v quiet -nologo > /dev/null
ours="$root/bench/LatentDiffusion.Bench/bin/Release/net10.0/ldm-bench.dll"
summary='import json, statistics, sys
d = json.load(sys.stdin); s = sorted(d["step_ms"])
threads = d["runtime"]["torch_threads"] if "runtime" in d else d["torch_threads"]
print(json.dumps({"pair": int(sys.argv[1]), "tool": sys.argv[2], "load1": float(sys.argv[3]), "threads": threads,
                  "median_ms": statistics.median(s), "mean_ms": statistics.mean(s), "min_ms": s[0], "step_ms": d["step_ms"]}))'

for ((pair = 1; pair <= pairs; pair++)); do
    echo "pair $pair/$pairs: ours" >&2
    load=$(cut -d' ' -f1 /proc/loadavg)
    dotnet "$ours" --threads "$threads" --unet-steps "$steps" --unet-warmup "$warmup" 2> /dev/null \
        | "$python" -c "$summary" "$pair" ours "$load" >> "$runs"
    echo "pair $pair/$pairs: PyTorch" >&2
    load=$(cut -d' ' -f1 /proc/loadavg)
    "$python" "$root/bench/pytorch_unet_step.py" --steps "$steps" --warmup "$warmup" --threads "$threads" \
        | "$python" -c "$summary" "$pair" pytorch "$load" >> "$runs"
done

"$python" - "$runs" "$out/unet-step-$stamp.json" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
table = []
for p in sorted({r["pair"] for r in rows}):
    ours = next(r for r in rows if r["pair"] == p and r["tool"] == "ours")
    torch = next(r for r in rows if r["pair"] == p and r["tool"] == "pytorch")
    table.append({"pair": p, "ours_ms": ours["median_ms"], "pytorch_ms": torch["median_ms"], "ratio": ours["median_ms"] / torch["median_ms"],
                  "ours_min_ms": ours["min_ms"], "pytorch_min_ms": torch["min_ms"], "load1": [ours["load1"], torch["load1"]],
                  "threads": [ours["threads"], torch["threads"]]})
result = {"pairs": table, "median_ratio": statistics.median(t["ratio"] for t in table), "runs": rows}
json.dump(result, open(sys.argv[2], "w"), indent=1)
print(f"{'pair':>4} {'ours ms/step':>13} {'PyTorch ms/step':>16} {'ratio':>7} {'min ours/PyTorch':>17} {'load before':>12}")
for t in table:
    print(f"{t['pair']:>4} {t['ours_ms']:>13.1f} {t['pytorch_ms']:>16.1f} {t['ratio']:>7.3f} {t['ours_min_ms']:>8.1f}/{t['pytorch_min_ms']:<8.1f} {t['load1'][0]:>5.1f}/{t['load1'][1]:<5.1f}")
print(f"median ratio ours/PyTorch: {result['median_ratio']:.3f} (threads ours/PyTorch {table[0]['threads']}); {sys.argv[2]}")
PY
