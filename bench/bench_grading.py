"""Grading throughput: seconds per submission for a batch of 20, on 1 and 2 workers.

    python bench/bench_grading.py [--n 20] [--out bench-out/grading.json]

The batch mixes reference solutions, blank notebooks and a near miss across the exercises,
as a real class would hand in. Not a timed test: machines are noisy, so run it on a quiet
machine and read the ratio between worker counts as well as the absolute figures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import nbformat

from trainart.grading import grade, samples


def make_batch(folder: Path, n: int) -> None:
    names = samples.exercise_names()
    for i in range(n):
        name = names[i % len(names)]
        nb = samples.reference(name) if i % 3 else samples.student(name)
        nbformat.write(nb, folder / f"student{i:02d}_{name}.ipynb")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("bench-out/grading.json"))
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        subs, reports = Path(tmp) / "subs", Path(tmp) / "reports"
        subs.mkdir()
        make_batch(subs, args.n)
        for jobs in (1, 2):
            start = time.perf_counter()
            graded = grade.grade([subs], reports, grading_dir=samples.EXERCISES_DIR / "grading",
                                 jobs=jobs, progress=False)
            seconds = time.perf_counter() - start
            assert all(r.status == grade.GRADED for r in graded)
            results[f"{jobs} worker(s)"] = {"seconds": round(seconds, 1),
                                            "per_submission": round(seconds / args.n, 2)}
    print(f"grading a batch of {args.n} submissions")
    for key, value in results.items():
        print(f"  {key}: {value['seconds']:.1f} s, {value['per_submission']:.2f} s per submission")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"n": args.n, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
