"""The ``trainart`` command: build exercises, grade submissions, self-check a notebook.

    trainart build-exercises [exercises/src/NAME.py ...]
    trainart grade SUBMISSIONS... [--out grading-out] [--jobs 2] [--timeout 30]
                   [--unsafe-no-sandbox]
    trainart check exercises/NAME.ipynb
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _default_grading_dir() -> Path:
    here = Path("exercises/grading")
    return here if here.is_dir() else REPO / "exercises" / "grading"


def cmd_build(args) -> int:
    from .build import BuildError, build_exercise
    from .source import ExerciseFormatError

    sources = args.sources or sorted((REPO / "exercises" / "src").glob("*.py"))
    status = 0
    for src in sources:
        try:
            student, canonical = build_exercise(src, args.out)
        except (BuildError, ExerciseFormatError) as e:
            print(f"error: {e}", file=sys.stderr)
            status = 1
            continue
        print(f"{src}: {student}, {canonical}")
    return status


def cmd_grade(args) -> int:
    from .grade import NOT_GRADED, SandboxUnavailable, grade

    try:
        reports = grade(args.submissions, args.out, grading_dir=args.grading_dir,
                        exercise=args.exercise, jobs=args.jobs, cell_timeout=args.timeout,
                        progress=not args.no_progress,
                        sandboxed=False if args.unsafe_no_sandbox else None,
                        unsafe_no_sandbox=args.unsafe_no_sandbox)
    except SandboxUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.unsafe_no_sandbox:
        print("warning: graded WITHOUT a sandbox (--unsafe-no-sandbox): the submissions could "
              "read the checks and each other's work and tamper with grading", file=sys.stderr)
    for r in reports:
        score = "-" if r.status == NOT_GRADED else f"{r.score}/{r.max_score}"
        flag = "  [flagged for review]" if r.flags else ""
        print(f"{r.student:30s} {r.exercise:20s} {r.status:16s} {score:>7s}{flag}")
    print(f"reports: {Path(args.out) / 'class.md'} (and one .md/.json per submission)")
    return 0


def cmd_check(args) -> int:
    from .grade import grade, markdown_report

    with tempfile.TemporaryDirectory(prefix="trainart-check-") as out:
        (report,) = grade([args.notebook], out, grading_dir=args.grading_dir, jobs=1,
                          cell_timeout=args.timeout, progress=False, include_hidden=False,
                          canary=False)
    print(markdown_report(report))
    print("(Only the visible checks ran; the instructor's grading adds hidden ones.)")
    if not report.sandboxed:
        print("(Not sandboxed: bubblewrap is not available here. That is fine for a "
              "self-check, which is not for credit.)")
    return 0 if report.max_score and report.score == report.max_score else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="trainart", description="Training Art's exercises.")
    sub = parser.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build-exercises", help="build student and grading notebooks")
    b.add_argument("sources", nargs="*", type=Path, help="exercise sources (default: all)")
    b.add_argument("--out", type=Path, default=REPO / "exercises")
    b.set_defaults(func=cmd_build)

    g = sub.add_parser("grade", help="grade submissions (notebooks or folders)")
    g.add_argument("submissions", nargs="+", type=Path)
    g.add_argument("--out", type=Path, default=Path("grading-out"))
    g.add_argument("--exercise", help="grade every submission as this exercise")
    g.add_argument("--jobs", type=int, default=2, help="parallel kernels (pytest-xdist)")
    g.add_argument("--timeout", type=int, default=30, help="seconds per cell")
    g.add_argument("--grading-dir", type=Path, default=None)
    g.add_argument("--no-progress", action="store_true")
    g.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="grade without bubblewrap: only for submissions you trust")
    g.set_defaults(func=cmd_grade)

    c = sub.add_parser("check", help="self-check one notebook with the visible checks")
    c.add_argument("notebook", type=Path)
    c.add_argument("--timeout", type=int, default=30)
    c.add_argument("--grading-dir", type=Path, default=None)
    c.set_defaults(func=cmd_check)

    args = parser.parse_args(argv)
    if getattr(args, "grading_dir", "unset") is None:
        args.grading_dir = _default_grading_dir()
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
