"""A static class dashboard of a graded folder: ``index.html`` and one page per student.

``trainart grade`` writes one ``<student>.json`` report per submission into its output
folder; :func:`write_dashboard` reads them and writes, next to them,

- ``index.html``: per exercise a histogram of the scores and the failure rate of every check
  (a table sorted by how many students miss it, and a bar chart), the counts of rejected,
  could-not-grade and flagged submissions, and a table of the students;
- ``students/<name>.html``: one student's report (checks, points, notes, flags);
- ``figures/*.png``: the charts (matplotlib's Agg backend, no timestamps or version strings,
  so a rerun on the same reports writes the same bytes).

Everything is static and offline: no script, no external style sheet, font or image. The
reports are the grader's, but student names and messages come from students' files, so every
piece of text is HTML-escaped, and a page's file name is derived from the name safely.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

GRADED, REJECTED, NOT_GRADED = "graded", "rejected", "could not grade"  # as in .grade
STATUSES = (GRADED, REJECTED, NOT_GRADED)
STUDENT_DIR, FIGURE_DIR = "students", "figures"
SIMILARITY_PAGE = "similarity.html"
MAX_CHART_CHECKS = 30  # bars in one failure-rate chart (the table lists every check)

STYLE = """
body { font-family: sans-serif; max-width: 60rem; margin: 1rem auto; padding: 0 1rem;
       line-height: 1.4; color: #111; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #999; padding: 0.2rem 0.5rem; text-align: left;
         vertical-align: top; }
th { background: #eee; }
img { max-width: 100%; height: auto; }
.failed { color: #a00; font-weight: bold; }
.passed { color: #060; }
.note { background: #ffd; border: 1px solid #cc9; padding: 0.5rem; }
"""


# ------------------------------------------------------------------------------ reading
@dataclass
class Check:
    id: str
    points: int
    max_points: int
    hidden: bool
    passed: bool
    message: str = ""


@dataclass
class StudentReport:
    """One ``<student>.json`` report, with every field checked and defaulted."""

    student: str
    status: str
    submission: str = ""
    exercise: str = ""
    score: int = 0
    max_score: int = 0
    checks: list[Check] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    page: str = ""  # file name of the student's page, set by :func:`assign_pages`


def _int(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _str(value) -> str:
    """Text, or "" for anything else; lone surrogates (from odd file names) become '?'."""
    if not isinstance(value, str):
        return ""
    return value.encode("utf-8", "replace").decode("utf-8")


def _strs(value) -> list[str]:
    return [_str(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _check(data) -> Check | None:
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return None
    return Check(id=_str(data["id"]), points=_int(data.get("points")),
                 max_points=_int(data.get("max_points")), hidden=data.get("hidden") is True,
                 passed=data.get("passed") is True, message=_str(data.get("message")))


def parse_report(data) -> StudentReport | None:
    """A report from decoded JSON, or None when it is not one (another JSON file)."""
    if not isinstance(data, dict) or not isinstance(data.get("student"), str) \
            or data.get("status") not in STATUSES:
        return None
    checks = data.get("checks") if isinstance(data.get("checks"), list) else []
    return StudentReport(
        student=_str(data["student"]), status=data["status"],
        submission=_str(data.get("submission")), exercise=_str(data.get("exercise")),
        score=_int(data.get("score")), max_score=_int(data.get("max_score")),
        checks=[c for c in map(_check, checks) if c is not None],
        messages=_strs(data.get("messages")), flags=_strs(data.get("flags")))


def load_reports(out_dir: Path) -> list[StudentReport]:
    """Every report in ``out_dir`` (other and unreadable JSON files are skipped), by name."""
    reports = []
    for path in sorted(Path(out_dir).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            continue
        report = parse_report(data)
        if report is not None:
            reports.append(report)
    return sorted(reports, key=lambda r: (r.student, r.exercise))


def page_name(student: str) -> str:
    """A safe file name for a student's page: the name itself when it is plain ASCII,
    otherwise a readable slug plus a hash of the name (so two names never share a page)."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", student):
        return f"{student}.html"
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", student).strip("-")[:60] or "student"
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{slug}-{digest}.html"


def assign_pages(reports: list[StudentReport]) -> None:
    """Give every report its own page file name (unique even for duplicate names)."""
    used: set[str] = set()
    for i, report in enumerate(reports):
        name = page_name(report.student)
        if name.lower() in used:  # case-insensitive file systems too
            name = f"{name[:-5]}-{i}.html"
        used.add(name.lower())
        report.page = name


# ---------------------------------------------------------------------------- statistics
@dataclass
class CheckRate:
    id: str
    hidden: bool
    max_points: int
    failed: int
    total: int

    @property
    def rate(self) -> float:
        return self.failed / self.total if self.total else 0.0


def exercises_of(reports: list[StudentReport]) -> list[str]:
    return sorted({r.exercise for r in reports if r.exercise})


def graded(reports: list[StudentReport], exercise: str) -> list[StudentReport]:
    return [r for r in reports if r.exercise == exercise and r.status == GRADED]


def check_rates(reports: list[StudentReport]) -> list[CheckRate]:
    """Failure rate of every check over ``reports``: the most missed first."""
    rates: dict[str, CheckRate] = {}
    for report in reports:
        for c in report.checks:
            rate = rates.setdefault(c.id, CheckRate(c.id, c.hidden, c.max_points, 0, 0))
            rate.total += 1
            rate.failed += not c.passed
    return sorted(rates.values(), key=lambda r: (-r.rate, r.id))


def max_score(reports: list[StudentReport]) -> int:
    return max((r.max_score for r in reports), default=0)


# ------------------------------------------------------------------------------- figures
def _ascii(text: str) -> str:
    """Chart labels in plain ASCII (the default font has no glyph for everything)."""
    return text.encode("ascii", "replace").decode("ascii")


def _new_figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> None:
    """PNG without the matplotlib version, so the bytes depend on the data only."""
    fig.savefig(path, format="png", metadata={"Software": None})


def score_histogram(scores: list[int], top: int, exercise: str, path: Path) -> None:
    """One bar per possible score, 0 to ``top`` points."""
    import numpy as np

    fig = _new_figure(6, 3.5)
    ax = fig.subplots()
    bins = np.arange(-0.5, max(top, max(scores, default=0)) + 1.5)
    ax.hist(scores, bins=bins, color="#4a78b5", edgecolor="black")
    ax.set_xlabel("Score (points)")
    ax.set_ylabel("Number of students")
    ax.set_title(_ascii(f"{exercise}: scores of {plural(len(scores), 'graded submission')}"))
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    _save(fig, path)


def failure_chart(rates: list[CheckRate], exercise: str, path: Path) -> None:
    """Horizontal bars: the share of graded students who failed each check."""
    shown = rates[:MAX_CHART_CHECKS]
    fig = _new_figure(6, 1.2 + 0.35 * len(shown))
    ax = fig.subplots()
    labels = [_ascii(r.id + (" (hidden)" if r.hidden else "")) for r in shown]
    ax.barh(range(len(shown)), [100 * r.rate for r in shown], color="#c0504d")
    ax.set_yticks(range(len(shown)), labels)
    ax.invert_yaxis()  # the most missed check on top
    ax.set_xlim(0, 100)
    ax.set_xlabel("Students who failed the check (%)")
    ax.set_title(_ascii(f"{exercise}: failure rate of each check"))
    fig.tight_layout()
    _save(fig, path)


def histogram_alt(exercise: str, scores: list[int], top: int) -> str:
    counts = Counter(scores)
    spread = ", ".join(f"{counts[s]} scored {s}" for s in sorted(counts))
    return (f"Histogram of the scores in exercise {exercise} (0 to {top} points) of "
            f"{plural(len(scores), 'graded submission')}: {spread}.")


def failure_alt(exercise: str, rates: list[CheckRate]) -> str:
    bars = "; ".join(f"{r.id} {100 * r.rate:.0f}%" for r in rates[:MAX_CHART_CHECKS])
    return (f"Bar chart of the share of graded students who failed each check of exercise "
            f"{exercise}, the most missed first: {bars}.")


# ---------------------------------------------------------------------------------- HTML
def esc(value) -> str:
    return html.escape(str(value), quote=True)


def page(title: str, body: list[str], style: str = "") -> str:
    """A complete HTML page: inline style only, nothing loaded from elsewhere."""
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>", f"<style>{STYLE}{style}</style>", "</head>", "<body>",
        "<main>", *body, "</main>", "</body>", "</html>", ""])


def table(headers: list[str], rows: list[list[str]], caption: str = "") -> str:
    """A table; ``headers`` are escaped here, the cells must already be HTML."""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = "\n".join("<tr>" + "".join(rows_cell(i, c) for i, c in enumerate(row)) + "</tr>"
                     for row in rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>"


def rows_cell(i: int, cell: str) -> str:
    """The first cell of a row heads it (``<th scope="row">``)."""
    return f'<th scope="row">{cell}</th>' if i == 0 else f"<td>{cell}</td>"


def figure(src: str, alt: str, caption: str) -> str:
    return (f'<figure><img src="{esc(src)}" alt="{esc(alt)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def score_text(report: StudentReport) -> str:
    if report.status == NOT_GRADED:
        return "could not grade"
    if report.status == REJECTED:
        return "rejected (0)"
    return f"{report.score} / {report.max_score}"


def summary_section(reports: list[StudentReport]) -> list[str]:
    """Counts per exercise: submissions, graded, mean, rejected, could not grade, flagged."""
    rows = []
    for ex in exercises_of(reports) + ([""] if any(not r.exercise for r in reports) else []):
        mine = [r for r in reports if r.exercise == ex]
        done = [r.score for r in mine if r.status == GRADED]
        mean = f"{sum(done) / len(done):.1f} / {max_score(mine)}" if done else "-"
        counts = Counter(r.status for r in mine)
        rows.append([esc(ex or "(not an exercise)"), str(len(mine)), str(counts[GRADED]),
                     esc(mean), str(counts[REJECTED]), str(counts[NOT_GRADED]),
                     str(sum(1 for r in mine if r.flags))])
    headers = ["Exercise", "Submissions", "Graded", "Mean score", "Rejected",
               "Could not grade", "Flagged for review"]
    return ["<h2>Summary</h2>", table(headers, rows, "Submissions per exercise"),
            "<p>Rejected files scored 0 (not a notebook of this course, too large, "
            "another exercise). <em>Could not grade</em> means the grading machine failed "
            "(the reference solution failed too): grade those again. Flags never change a "
            "score; they ask a person to look.</p>"]


def exercise_section(reports: list[StudentReport], exercise: str, out_dir: Path) -> list[str]:
    """The histogram, the sorted failure-rate table and its chart for one exercise."""
    mine = graded(reports, exercise)
    body = [f'<h2 id="ex-{esc(_slug(exercise))}">Exercise {esc(exercise)}</h2>']
    if not mine:
        return body + ["<p>No graded submissions.</p>"]
    scores, top = [r.score for r in mine], max_score(mine)
    hist = f"{FIGURE_DIR}/{_slug(exercise)}-scores.png"
    score_histogram(scores, top, exercise, out_dir / hist)
    body.append(figure(hist, histogram_alt(exercise, scores, top),
                       f"Scores in {exercise} ({plural(len(scores), 'graded submission')})."))
    rates = check_rates(mine)
    if rates:
        chart = f"{FIGURE_DIR}/{_slug(exercise)}-checks.png"
        failure_chart(rates, exercise, out_dir / chart)
        rows = [[esc(r.id), "yes" if r.hidden else "no", str(r.max_points),
                 f"{r.failed} of {r.total}", f"{100 * r.rate:.0f}%"] for r in rates]
        body += [f"<h3>Checks of {esc(exercise)}, the most missed first</h3>",
                 table(["Check", "Hidden", "Points", "Failed", "Failure rate"], rows,
                       f"Failure rate of each check of {exercise}"),
                 figure(chart, failure_alt(exercise, rates),
                        f"Failure rate of each check of {exercise}.")]
    return body


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "exercise"


def students_section(reports: list[StudentReport]) -> list[str]:
    """One row per submission: its page, status, the score under its exercise, flags."""
    exercises = exercises_of(reports)
    rows = []
    for r in reports:
        link = f'<a href="{STUDENT_DIR}/{quote(r.page)}">{esc(r.student)}</a>'
        cells = [esc(score_text(r)) if r.exercise == ex else "" for ex in exercises]
        rows.append([link, esc(r.status), *cells, str(len(r.flags)) if r.flags else ""])
    headers = ["Student", "Status", *exercises, "Flags"]
    return ["<h2>Students</h2>", table(headers, rows, "Score of every submission, by exercise")]


def similarity_section(out_dir: Path) -> list[str]:
    if (out_dir / SIMILARITY_PAGE).exists():
        return ["<h2>Similarity</h2>",
                f'<p><a href="{SIMILARITY_PAGE}">Most similar solutions, per exercise</a> '
                "(advice for a person; it never changes a score).</p>"]
    return ["<h2>Similarity</h2>",
            "<p>No similarity report yet: run <code>trainart similarity OUT_DIR</code>, "
            "then this dashboard again.</p>"]


def student_page(report: StudentReport) -> str:
    """One student's report: score, every check, notes and flags."""
    title = f"{report.student}: {report.exercise or 'no exercise'}"
    body = ['<p><a href="../index.html">Back to the class dashboard</a></p>',
            f"<h1>{esc(title)}</h1>",
            f"<p>Status: <strong>{esc(report.status)}</strong>. "
            f"Score: <strong>{esc(score_text(report))}</strong>.</p>",
            f"<p>Submitted file: <code>{esc(Path(report.submission).name)}</code></p>"]
    if report.checks:
        rows = [[esc(c.id), "yes" if c.hidden else "no",
                 '<span class="passed">passed</span>' if c.passed
                 else '<span class="failed">failed</span>',
                 f"{c.points} / {c.max_points}", esc(c.message)] for c in report.checks]
        body += ["<h2>Checks</h2>",
                 table(["Check", "Hidden", "Result", "Points", "Note"], rows,
                       "Result of every check")]
    if report.messages:
        body += ["<h2>Notes</h2>", "<ul>"] + [f"<li>{esc(m)}</li>" for m in report.messages]
        body.append("</ul>")
    if report.flags:
        body += ["<h2>Flagged for review</h2>",
                 '<p class="note">These do not change the score; an instructor will look at '
                 "them.</p>", "<ul>"] + [f"<li>{esc(f)}</li>" for f in report.flags]
        body.append("</ul>")
    return page(title, body)


# -------------------------------------------------------------------------------- output
def _fresh_folder(folder: Path, pattern: str) -> None:
    """Create ``folder``, or empty it of the files this module wrote there before."""
    folder.mkdir(exist_ok=True)
    for path in folder.glob(pattern):
        if path.is_file():
            path.unlink()


def write_dashboard(out_dir: Path) -> Path:
    """Write ``index.html``, ``students/*.html`` and ``figures/*.png`` into ``out_dir``
    from the reports there; return the path of ``index.html``."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise FileNotFoundError(f"no such folder: {out_dir} (the output of `trainart grade`)")
    reports = load_reports(out_dir)
    assign_pages(reports)
    _fresh_folder(out_dir / STUDENT_DIR, "*.html")
    _fresh_folder(out_dir / FIGURE_DIR, "*.png")
    body = ["<h1>Class dashboard</h1>",
            f"<p>{plural(len(reports), 'submission')} in "
            f"{plural(len(exercises_of(reports)), 'exercise')}.</p>"]
    if not reports:
        body.append("<p>No reports here: grade with <code>trainart grade</code> first.</p>")
    body += summary_section(reports) + similarity_section(out_dir)
    for exercise in exercises_of(reports):
        body += exercise_section(reports, exercise, out_dir)
    body += students_section(reports)
    for report in reports:
        (out_dir / STUDENT_DIR / report.page).write_text(student_page(report), encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(page("Class dashboard", body), encoding="utf-8")
    return index


# ----------------------------------------------------------------------------------- CLI
def _command(args: argparse.Namespace) -> int:
    index = write_dashboard(args.out_dir)
    print(f"dashboard: {index}")
    return 0


def register(subparsers) -> None:
    """Add ``trainart dashboard OUT_DIR`` to the ``trainart`` command's subparsers."""
    p = subparsers.add_parser("dashboard", help="write a static HTML class dashboard "
                                                "(index.html) into a graded folder")
    p.add_argument("out_dir", type=Path, metavar="OUT_DIR",
                   help="the folder `trainart grade --out` wrote")
    p.set_defaults(func=_command)
