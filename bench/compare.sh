#!/usr/bin/env bash
# Same-machine comparison of classifier training speed: ours (LatentDiffusion.Bench --train-only) and the blog's
# PyTorch loop (bench/pytorch_classifier_epoch.py), run ALTERNATELY so that drift in machine load hits both.
# Each run: 1 warm-up epoch + EPOCHS timed epochs; the ratio ours/PyTorch of the median epoch per pair, then the
# median of the ratios. Not part of CI. Needs Debian's python3-torch (/usr/bin/python3).
#
#   bench/compare.sh [PAIRS=3] [EPOCHS=3] [PYTORCH_THREADS=0]     (0: PyTorch's default thread count)
#   PYTHON=/path/to/python3 bench/compare.sh …                    (default /usr/bin/python3)
#
# Writes bench/results/compare-<timestamp>.json and prints a table.
set -euo pipefail
pairs=${1:-3}
epochs=${2:-3}
pytorch_threads=${3:-0}
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/compare_common.sh"     # python, out, stamp, ours (built)
runs="$out/compare-$stamp.runs.jsonl"
: > "$runs"

for ((pair = 1; pair <= pairs; pair++)); do
    echo "pair $pair/$pairs: ours" >&2
    dotnet "$ours" --train-only --epochs "$epochs" --json - 2> /dev/null \
        | "$python" -c "import json,sys; d=json.load(sys.stdin); print(json.dumps({'pair': $pair, 'tool': 'ours', 'median': d['training']['median_epoch_seconds'], 'epochs': d['training']['epoch_seconds'], 'threads': d['runtime']['torch_threads']}))" >> "$runs"
    echo "pair $pair/$pairs: PyTorch" >&2
    "$python" "$root/bench/pytorch_classifier_epoch.py" --epochs "$epochs" --threads "$pytorch_threads" --data "$root/data/mnist" \
        | "$python" -c "import json,sys; d=json.load(sys.stdin); print(json.dumps({'pair': $pair, 'tool': 'pytorch', 'median': d['median_epoch_seconds'], 'epochs': d['epoch_seconds'], 'threads': d['torch_threads'], 'version': d['tool']}))" >> "$runs"
done

"$python" - "$runs" "$out/compare-$stamp.json" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
pairs = sorted({r["pair"] for r in rows})
table = []
for p in pairs:
    ours = next(r for r in rows if r["pair"] == p and r["tool"] == "ours")
    torch = next(r for r in rows if r["pair"] == p and r["tool"] == "pytorch")
    table.append({"pair": p, "ours_s": ours["median"], "pytorch_s": torch["median"], "ratio": ours["median"] / torch["median"],
                  "ours_threads": ours["threads"], "pytorch_threads": torch["threads"]})
result = {"pairs": table, "median_ratio": statistics.median(t["ratio"] for t in table), "runs": rows}
json.dump(result, open(sys.argv[2], "w"), indent=2)
print(f"{'pair':>4} {'ours s/epoch':>13} {'PyTorch s/epoch':>16} {'ours/PyTorch':>13}")
for t in table:
    print(f"{t['pair']:>4} {t['ours_s']:>13.3f} {t['pytorch_s']:>16.3f} {t['ratio']:>13.3f}")
print(f"median ratio ours/PyTorch: {result['median_ratio']:.3f}  (threads: ours {table[0]['ours_threads']}, PyTorch {table[0]['pytorch_threads']}); {sys.argv[2]}")
PY
