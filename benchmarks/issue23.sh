#!/bin/sh
# Every figure of issue 23, on this machine, in one command (from the repository root):
#   sh benchmarks/issue23.sh
# The compiled peers' table pinned to one core and one thread, B3 again with two cores and two threads each,
# then the sweep figure (XOR 2-8-1 x 2000 epochs, trained networks per minute, in-process and --workers 2) for a
# sweep of 4 cells x 1,000 seeds and one of 4 cells x 4,000 seeds; the sweeps' output goes to results/sweeps.txt.
set -e
cd "$(dirname "$0")"
python compiled_peers.py --repeats 5
python compiled_peers.py --repeats 5 --threads 2 --only B3 --fresh 0 --out results/compiled_peers_2threads.md
{
  python sweep_bench.py --repeats 3 --seeds 1000 --hidden 8
  python sweep_bench.py --repeats 3 --seeds 4000 --hidden 8
} | tee results/sweeps.tmp
mv results/sweeps.tmp results/sweeps.txt
