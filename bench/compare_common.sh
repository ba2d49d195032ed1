# Sourced by bench/compare.sh and bench/compare_steps.sh after they set $root (the repository): checks that $PYTHON
# (default Debian's /usr/bin/python3) imports torch, builds our benchmark in Release, and sets
#   python  the interpreter for the PyTorch side and the summaries
#   out     bench/results, created if missing
#   stamp   the UTC time, for the result's file name
#   ours    the built ldm-bench.dll
python=${PYTHON:-/usr/bin/python3}
if ! "$python" -c "import torch" 2> /dev/null; then
    echo "$(basename "$0"): $python cannot import torch; install Debian's PyTorch first: apt-get install -y python3-torch" >&2
    exit 2
fi
out="$root/bench/results"
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
dotnet build -c Release "$root/bench/LatentDiffusion.Bench" -v quiet -nologo > /dev/null
ours="$root/bench/LatentDiffusion.Bench/bin/Release/net10.0/ldm-bench.dll"
