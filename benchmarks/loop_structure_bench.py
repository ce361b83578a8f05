"""fit on B1 or B2 (workloads.py): CPU seconds of the fit calls only, the median of 3 in one process.

Run it against two source trees in turn (issue 21 part 4: fit's step restructured, speed kept)::

    for i in 1 2 3 4 5 6; do for v in /tmp/before/src src; do
        OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=$v python benchmarks/loop_structure_bench.py B1
    done; done

Measured 2026-12-05 on the shared 2-core machine (load average 13-20, other helpers' suites running),
six interleaved pairs each, the code before the restructure (main at 323ad79) against after:
B1 median 0.0760 s before, 0.0744 s after (median ratio of pairs 1.018, spread 0.74-1.20);
B2 median 0.905 s before, 0.911 s after (median ratio 0.991, spread 0.96-1.16): within the noise.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import backproplab as bp
from workloads import b1, b2, make_problem

w = b1() if sys.argv[1] == "B1" else b2()
prob = make_problem(w)
net = bp.mlp(list(w.sizes), activation=w.activation, output=w.output, seed=w.seed, runs=w.runs, dtype=w.dtype)
start = {k: v.copy() for k, v in net.state_dict().items()}
times = []
for _ in range(3):
    net.load_state_dict(start)
    t = time.process_time()
    bp.fit(net, prob.X, prob.labels, optimizer=bp.SGD(w.lr), epochs=w.epochs, batch_size=w.batch_size, progress=False)
    times.append(time.process_time() - t)
print(sys.argv[1], sorted(times)[1])
