"""Run the benchmark suite and print one table; write it to JSON (and Markdown) as well.

    python -m bench.run [--smoke] [--only optimizers,batchnorm,...] [--out bench-out/bench.json]

Groups (one module each): ``optimizers`` (a step of SGD-momentum and Adam against
``torch.optim``), ``batchnorm`` (forward + backward against torch autograd),
``quasi_newton`` (L-BFGS and BFGS against ``scipy.optimize.minimize``), ``grading``
(seconds per submission on 1 and 2 workers), ``book`` (each chapter, the cold ``make book``
with its single parallel execution, the cached rebuild), ``suite`` (a fresh clone's
``make test``, installation aside). The first three run on one thread on both sides
(``torch.set_num_threads(1)``, ``threadpoolctl.threadpool_limits(1)``); grading, the book
and the suite use the machine as ``make grade``, ``make book`` and ``make test`` do.

Targets are rows that say pass or FAIL; a missed target does not make the command fail
(benchmarks are not tests). ``--smoke`` runs the timed groups at tiny sizes and only lists
what the grading, book and suite groups would do, in seconds: ``tests/test_bench.py`` runs it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

from . import batchnorm, book, grading, optimizers, quasi_newton, report, suite
from .timing import one_thread

GROUPS = {"optimizers": optimizers, "batchnorm": batchnorm, "quasi_newton": quasi_newton,
          "grading": grading, "book": book, "suite": suite}
ONE_THREAD_GROUPS = ("optimizers", "batchnorm", "quasi_newton")


def machine() -> dict:
    """What the figures were measured on (they depend on it; the ratios less so)."""
    import numpy
    import scipy
    import torch

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(), "python": platform.python_version(), "numpy": numpy.__version__,
        "torch": torch.__version__, "scipy": scipy.__version__,
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


def header(meta: dict, smoke: bool) -> str:
    return (f"Training Art benchmarks{' (smoke: tiny sizes)' if smoke else ''}, {meta['date']}: "
            f"{meta['cpus']} CPUs, Python {meta['python']}, NumPy {meta['numpy']}, "
            f"torch {meta['torch']}, SciPy {meta['scipy']}; load average "
            f"{meta['load_average_start'][0]} at the start, {meta['load_average_end'][0]} at "
            f"the end.\nOptimizer, batch norm and quasi-Newton rows: one thread on both sides "
            f"(torch.set_num_threads(1), threadpoolctl threadpool_limits(1)), interleaved "
            f"rounds, medians; ratio = trainart's median over the reference's, judged as "
            f"printed (2 decimals). Grading and "
            f"book rows: all cores, as `make grade` and `make book` run.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, no grading and no book build (seconds)")
    parser.add_argument("--only", default=",".join(GROUPS),
                        help=f"comma-separated groups, from {', '.join(GROUPS)}")
    parser.add_argument("--out", type=Path, default=Path("bench-out/bench.json"),
                        help="the JSON file (a .md with the table is written beside it)")
    args = parser.parse_args(argv)
    names = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = sorted(set(names) - set(GROUPS))
    if unknown:
        parser.error(f"unknown groups {unknown}; choose from {', '.join(GROUPS)}")

    meta = machine()
    rows, seconds = [], {}
    for name in GROUPS:  # always in this order
        if name not in names:
            continue
        print(f"[bench] {name} ...", flush=True)
        start = time.perf_counter()
        if name in ONE_THREAD_GROUPS:
            with one_thread():
                rows += GROUPS[name].run(smoke=args.smoke)
        else:
            rows += GROUPS[name].run(smoke=args.smoke)
        seconds[name] = round(time.perf_counter() - start, 1)
    meta["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    meta["group_seconds"] = seconds

    text = (f"{header(meta, args.smoke)}\n\n{report.markdown(rows)}\n\n"
            f"{report.targets_summary(rows)}.")
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "smoke": args.smoke,
                                    "summary": report.targets_summary(rows),
                                    "rows": report.as_json(rows)}, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(text + "\n")
    print(f"[bench] wrote {args.out} and {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
