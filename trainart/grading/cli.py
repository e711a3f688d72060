"""The ``trainart`` command: build exercises, grade submissions, self-check a notebook.

    trainart build-exercises [exercises/src/NAME.py ...]
    trainart grade SUBMISSIONS... [--out grading-out] [--jobs 2] [--timeout 30]
                   [--shard I/N] [--regrade] [--unsafe-no-sandbox]
                   [--roster roster.csv [--format canvas|moodle|csv] [--assignments a.toml]]
    trainart export grading-out --roster roster.csv [--format canvas|moodle|csv]
    trainart merge grading-out-1 grading-out-2 ... -o grading-out
    trainart release-solutions NAME... [-o solutions]
    trainart gradescope-autograder NAME... -o autograder.zip
    trainart dashboard grading-out      trainart similarity grading-out
    trainart check exercises/NAME.ipynb
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


CLASS_TOOLS = ("gradescope", "dashboard", "similarity")


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
    from .grade import NOT_GRADED, SandboxUnavailable, grade, parse_shard

    shard = parse_shard(args.shard) if args.shard else None
    try:
        reports = grade(args.submissions, args.out, grading_dir=args.grading_dir,
                        exercise=args.exercise, jobs=args.jobs, cell_timeout=args.timeout,
                        progress=not args.no_progress,
                        sandboxed=False if args.unsafe_no_sandbox else None,
                        unsafe_no_sandbox=args.unsafe_no_sandbox, shard=shard,
                        resume=not args.regrade)
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
    _class_pages(args.out, args.grading_dir)
    if args.roster:
        return _export(args.out, args)
    return 0


def _class_pages(out: Path, grading_dir: Path | None = None) -> None:
    """The dashboard and the similarity report of a graded folder (advice, never scores)."""
    from .dashboard import write_dashboard
    from .similarity import write_similarity

    # the similarity report first: the dashboard links to it when it exists
    similar = write_similarity(Path(out), grading_dir or _default_grading_dir())
    print(f"similar solutions: {similar}")
    print(f"class dashboard: {write_dashboard(Path(out))}")


def _export(out: Path, args) -> int:
    from .gradebook import GradebookError, export

    try:
        path, book = export(out, args.roster, args.format, id_column=args.id_column,
                            assignments=args.assignments,
                            moodle_identifier=args.moodle_identifier)
    except GradebookError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"gradebook ({args.format}): {path}")
    problems = book.problems()
    for line in problems:
        print(f"  check: {line}")
    if problems:
        print(f"  ({len(problems)} to look at; also in {Path(out) / 'gradebook-problems.txt'})")
    return 0


def cmd_export(args) -> int:
    return _export(args.out_dir, args)


def cmd_merge(args) -> int:
    from .grade import merge

    reports = merge(args.folders, args.out)
    print(f"merged {len(reports)} reports from {len(args.folders)} folders into {args.out}")
    _class_pages(args.out)
    return 0


def cmd_release(args) -> int:
    from .build import release_solutions

    source_dir = Path("exercises/src") if Path("exercises/src").is_dir() else \
        REPO / "exercises" / "src"
    for path in release_solutions(args.names, args.out, source_dir):
        print(path)
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


def _export_options(parser, required: bool) -> None:
    from .gradebook import FORMATS, MOODLE_IDENTIFIERS

    parser.add_argument("--roster", type=Path, required=required,
                        help="CSV of the class: a student-id column (and name, section, ...)")
    parser.add_argument("--id-column", default="id", help="the roster's student-id column")
    parser.add_argument("--format", choices=FORMATS, default="csv",
                        help="the gradebook file to write (default: csv)")
    parser.add_argument("--assignments", type=Path,
                        help="TOML file summing exercises into LMS assignments")
    parser.add_argument("--moodle-identifier", choices=sorted(MOODLE_IDENTIFIERS),
                        default="idnumber", help="the column Moodle maps users by")


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
    g.add_argument("--shard", metavar="I/N",
                   help="grade only part I of N of the batch (then `trainart merge`)")
    g.add_argument("--regrade", action="store_true",
                   help="grade every file again (default: reuse the reports of unchanged "
                        "files graded by the same checks in --out)")
    _export_options(g, required=False)
    g.set_defaults(func=cmd_grade)

    e = sub.add_parser("export", help="write a gradebook import file from graded reports")
    e.add_argument("out_dir", type=Path, help="a folder `trainart grade` wrote")
    _export_options(e, required=True)
    e.set_defaults(func=cmd_export)

    m = sub.add_parser("merge", help="join the reports of several grading runs (shards)")
    m.add_argument("folders", nargs="+", type=Path)
    m.add_argument("-o", "--out", type=Path, default=Path("grading-out"))
    m.set_defaults(func=cmd_merge)

    r = sub.add_parser("release-solutions", help="build worked-solution notebooks to publish")
    r.add_argument("names", nargs="+", help="exercise names (e.g. optim_adam)")
    r.add_argument("-o", "--out", type=Path, default=Path("solutions"))
    r.set_defaults(func=cmd_release)

    for module in CLASS_TOOLS:  # gradescope-autograder, dashboard, similarity
        importlib.import_module(f"trainart.grading.{module}").register(sub)

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
