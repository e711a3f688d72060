"""From graded reports to a learning-management system's gradebook import file.

The grader writes one report per submission file (``<student>.json`` in its output folder).
A gradebook wants one row per *student* and one column per *assignment*. This module joins
the two through the class roster:

1. **Roster** (``roster.csv``, UTF-8): one row per student, a column with the student id
   (``id`` by default, ``--id-column`` otherwise) and, where the LMS wants them, ``name``,
   ``section``, ``email``, ``username``, ``canvas_id``, ``sis_user_id``, ``sis_login_id``.
2. **Matching**: a submission belongs to the student whose id appears in its file path as a
   whole token (``2026123/optim_adam.ipynb``, ``optim_adam-2026123.ipynb``: yes;
   ``20261234_optim_adam.ipynb``: not for id ``2026123``). Files that match nobody, or more
   than one student, and students with no submission are listed, never dropped silently.
3. **Assignments**: by default one per exercise. A small TOML file sums exercises into one
   LMS assignment, optionally rescaled to its points::

       [[assignment]]
       name = "Homework 1"
       exercises = ["optim_momentum", "optim_adam"]
       points = 10          # optional: the sum rescaled to 10 points
       canvas_id = 4711     # optional: Canvas's assignment id, for its column header

   A student's assignment score is the sum over its exercises (a missing or rejected
   exercise counts 0); a student with no graded file for any of them gets an empty cell (no
   grade), as does one whose file could not be graded (grade again).
4. **Formats**: ``canvas`` (the columns of Canvas's gradebook import: Student, ID, SIS User
   ID, SIS Login ID, Section, then one ``<assignment> (<id>)`` column each), ``moodle``
   (Moodle's "Import grades from CSV": an identifier column to map users by, then one grade
   column per assignment) and ``csv`` (id, name, section, every exercise, every assignment).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib  # Python 3.11+
except ImportError:  # pragma: no cover - Python 3.10
    tomllib = None

FORMATS = ("canvas", "moodle", "csv")
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_IDENTIFIERS = {"idnumber": ("ID number", "id"), "email": ("Email address", "email"),
                      "username": ("Username", "username")}


class GradebookError(ValueError):
    """A roster, assignment file or option that cannot be used (the message says why)."""


@dataclass
class Assignment:
    name: str
    exercises: list[str]
    points: float | None = None  # rescale the sum to this; None: the sum of the exercises'
    canvas_id: str = ""


@dataclass
class Gradebook:
    """Who got what: rows of the roster with their scores, and what did not fit."""

    roster: list[dict]
    id_column: str
    assignments: list[Assignment]
    max_points: dict[str, float]  # per assignment
    scores: dict[str, dict[str, float | None]]  # student id -> assignment -> score or None
    exercise_scores: dict[str, dict[str, float]]  # student id -> exercise -> best score
    unmatched: list[str] = field(default_factory=list)  # report files, with the reason
    missing: list[str] = field(default_factory=list)  # student ids without any submission
    notes: list[str] = field(default_factory=list)  # duplicates, ungraded files

    def problems(self) -> list[str]:
        """What an instructor must look at before importing, one line each."""
        lines = [f"unmatched submission: {u}" for u in self.unmatched]
        lines += [f"no submission from student {m}" for m in self.missing]
        return lines + self.notes


# ------------------------------------------------------------------------------ inputs
def read_roster(path: str | Path, id_column: str = "id") -> list[dict]:
    """The roster's rows (dicts by lower-cased header); ids must be present and unique."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        raise GradebookError(f"roster {path} does not exist") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise GradebookError(f"roster {path} is not a UTF-8 CSV file ({e})") from None
    rows = [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            for row in rows]
    key = id_column.strip().lower()
    if not rows:
        raise GradebookError(f"roster {path} has no students")
    if key not in rows[0]:
        raise GradebookError(f"roster {path} has no '{id_column}' column (columns: "
                             f"{', '.join(rows[0])}); name it with --id-column")
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        sid = row[key]
        if not sid:
            raise GradebookError(f"roster {path}, line {number}: the '{id_column}' is empty")
        if sid.lower() in seen:
            raise GradebookError(f"roster {path}, line {number}: student id {sid!r} appears "
                                 f"twice")
        seen.add(sid.lower())
    return rows


def read_assignments(path: str | Path | None, exercises: list[str]) -> list[Assignment]:
    """The assignments of a TOML file, or one per exercise (``path=None``)."""
    if path is None:
        return [Assignment(name=e, exercises=[e]) for e in sorted(exercises)]
    path = Path(path)
    if tomllib is None:
        raise GradebookError("reading an assignment file needs Python 3.11 or later (tomllib)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GradebookError(f"assignment file {path} does not exist") from None
    except tomllib.TOMLDecodeError as e:
        raise GradebookError(f"assignment file {path} is not valid TOML: {e}") from None
    items = data.get("assignment")
    if not isinstance(items, list) or not items:
        raise GradebookError(f"assignment file {path}: expected one or more [[assignment]] "
                             f"tables")
    out = []
    for i, item in enumerate(items, start=1):
        where = f"assignment file {path}, assignment {i}"
        name, members = item.get("name"), item.get("exercises")
        if not isinstance(name, str) or not name.strip():
            raise GradebookError(f"{where}: 'name' must be a non-empty string")
        if (not isinstance(members, list) or not members
                or not all(isinstance(e, str) for e in members)):
            raise GradebookError(f"{where} ({name}): 'exercises' must be a list of exercise "
                                 f"names")
        points = item.get("points")
        if points is not None and (isinstance(points, bool)
                                   or not isinstance(points, (int, float)) or points <= 0):
            raise GradebookError(f"{where} ({name}): 'points' must be a positive number, "
                                 f"got {points!r}")
        out.append(Assignment(name=name.strip(), exercises=members,
                              points=None if points is None else float(points),
                              canvas_id=str(item.get("canvas_id", "")).strip()))
    return out


def read_reports(out_dir: str | Path) -> list[dict]:
    """The per-submission reports a grading run wrote into ``out_dir``."""
    out_dir = Path(out_dir)
    reports = []
    for path in sorted(out_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(data, dict) and {"student", "status", "score"} <= data.keys():
            reports.append(data)
    if not reports:
        raise GradebookError(f"no grading reports in {out_dir}: run `trainart grade` first")
    return reports


# ------------------------------------------------------------------------------ joining
def _token_pattern(student_id: str) -> re.Pattern:
    return re.compile(rf"(?<![^\W_]){re.escape(student_id.lower())}(?![^\W_])")


def match_student(name: str, patterns: dict[str, re.Pattern]) -> list[str]:
    """The roster ids that appear in ``name`` (a report's student, i.e. its file path) as a
    whole token: not inside a longer run of letters or digits."""
    text = name.lower()
    return [sid for sid, pattern in patterns.items() if pattern.search(text)]


def build(reports: list[dict], roster: list[dict], id_column: str = "id",
          assignments: list[Assignment] | None = None) -> Gradebook:
    """Join reports and roster: every student's score per exercise and per assignment."""
    key = id_column.strip().lower()
    ids = [row[key] for row in roster]
    patterns = {sid: _token_pattern(sid) for sid in ids}
    exercises = sorted({r["exercise"] for r in reports if r.get("exercise")})
    assignments = assignments or read_assignments(None, exercises)
    book = Gradebook(roster=roster, id_column=key, assignments=assignments, max_points={},
                     scores={}, exercise_scores={sid: {} for sid in ids})
    exercise_max: dict[str, float] = {}
    seen: dict[tuple[str, str], list[str]] = {}
    ungraded: dict[str, set[str]] = {sid: set() for sid in ids}
    submitted: set[str] = set()
    for r in reports:
        found = match_student(r["student"], patterns)
        if len(found) != 1:
            why = "no roster id in its name" if not found else \
                f"it names several students ({', '.join(found)})"
            book.unmatched.append(f"{r.get('submission', r['student'])}: {why}")
            continue
        sid, exercise = found[0], r.get("exercise") or ""
        submitted.add(sid)
        if not exercise:  # rejected before its exercise was known
            book.notes.append(f"student {sid}: {r.get('submission')} was rejected "
                              f"({'; '.join(r.get('messages', []))[:200]}); scored 0")
            continue
        if r.get("max_score"):
            exercise_max[exercise] = max(exercise_max.get(exercise, 0), r["max_score"])
        seen.setdefault((sid, exercise), []).append(str(r.get("submission", r["student"])))
        if r["status"] == "could not grade":
            ungraded[sid].add(exercise)
            book.notes.append(f"student {sid}: {exercise} could not be graded (a problem on "
                              f"the grading machine): grade it again; left empty")
            continue
        best = book.exercise_scores[sid].get(exercise)
        score = float(r["score"] or 0)
        book.exercise_scores[sid][exercise] = score if best is None else max(best, score)
    for (sid, exercise), files in sorted(seen.items()):
        if len(files) > 1:
            book.notes.append(f"student {sid} handed in {exercise} {len(files)} times "
                              f"({', '.join(files)}); the best score counts")
    book.missing = [sid for sid in ids if sid not in submitted]
    for a in assignments:
        unknown = [e for e in a.exercises if e not in exercise_max and e not in exercises]
        if unknown:
            book.notes.append(f"assignment {a.name!r}: no graded report of "
                              f"{', '.join(unknown)} in this batch; counted as 0 points")
        total = sum(exercise_max.get(e, 0) for e in a.exercises)
        book.max_points[a.name] = a.points if a.points is not None else total
    for sid in ids:
        mine = book.exercise_scores[sid]
        book.scores[sid] = {}
        for a in assignments:
            if not any(e in mine for e in a.exercises) or ungraded[sid] & set(a.exercises):
                book.scores[sid][a.name] = None  # nothing graded, or must be graded again
                continue
            raw = sum(mine.get(e, 0.0) for e in a.exercises)
            total = sum(exercise_max.get(e, 0) for e in a.exercises)
            book.scores[sid][a.name] = (round(raw / total * a.points, 2)
                                        if a.points is not None and total else raw)
    return book


# ------------------------------------------------------------------------------ writing
def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def canvas_rows(book: Gradebook) -> list[list[str]]:
    """Canvas's gradebook import: its five student columns, then ``<name> (<id>)``."""
    header = list(CANVAS_COLUMNS) + [f"{a.name} ({a.canvas_id})" if a.canvas_id else a.name
                                     for a in book.assignments]
    rows = [header]
    for row in book.roster:
        sid = row[book.id_column]
        rows.append([row.get("name", ""), row.get("canvas_id", ""),
                     row.get("sis_user_id", "") or sid, row.get("sis_login_id", ""),
                     row.get("section", "")]
                    + [_number(book.scores[sid][a.name]) for a in book.assignments])
    return rows


def moodle_rows(book: Gradebook, identifier: str = "idnumber") -> list[list[str]]:
    """Moodle's CSV grade import: the column to map users by, then one grade per column."""
    if identifier not in MOODLE_IDENTIFIERS:
        raise GradebookError(f"Moodle identifier must be one of {', '.join(MOODLE_IDENTIFIERS)}"
                             f", got {identifier!r}")
    header_name, column = MOODLE_IDENTIFIERS[identifier]
    column = book.id_column if column == "id" else column
    if any(not row.get(column) for row in book.roster):
        raise GradebookError(f"Moodle export by {identifier}: the roster needs a '{column}' "
                             f"column with a value for every student")
    rows = [[header_name] + [a.name for a in book.assignments]]
    for row in book.roster:
        sid = row[book.id_column]
        rows.append([row[column]] + [_number(book.scores[sid][a.name])
                                     for a in book.assignments])
    return rows


def plain_rows(book: Gradebook) -> list[list[str]]:
    """Everything: id, name, section, each exercise, each assignment (and its maximum)."""
    exercises = sorted({e for a in book.assignments for e in a.exercises})
    header = ["id", "name", "section"] + exercises + [
        f"{a.name} (of {_number(book.max_points[a.name])})" for a in book.assignments]
    rows = [header]
    for row in book.roster:
        sid = row[book.id_column]
        mine = book.exercise_scores[sid]
        rows.append([sid, row.get("name", ""), row.get("section", "")]
                    + [_number(mine.get(e)) for e in exercises]
                    + [_number(book.scores[sid][a.name]) for a in book.assignments])
    return rows


def write(book: Gradebook, out: str | Path, fmt: str, moodle_identifier: str = "idnumber"
          ) -> Path:
    """Write the import file of ``fmt`` (one of :data:`FORMATS`) to ``out``."""
    if fmt == "canvas":
        rows = canvas_rows(book)
    elif fmt == "moodle":
        rows = moodle_rows(book, moodle_identifier)
    elif fmt == "csv":
        rows = plain_rows(book)
    else:
        raise GradebookError(f"unknown gradebook format {fmt!r}; choose one of "
                             f"{', '.join(FORMATS)}")
    out = Path(out)
    with out.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return out


def export(out_dir: str | Path, roster: str | Path, fmt: str = "csv", *,
           id_column: str = "id", assignments: str | Path | None = None,
           moodle_identifier: str = "idnumber", out: str | Path | None = None
           ) -> tuple[Path, Gradebook]:
    """Read the reports in ``out_dir`` and the roster; write ``gradebook-<fmt>.csv`` there
    (or ``out``) and ``gradebook-problems.txt`` listing what did not fit."""
    out_dir = Path(out_dir)
    reports = read_reports(out_dir)
    exercises = sorted({r["exercise"] for r in reports if r.get("exercise")})
    book = build(reports, read_roster(roster, id_column), id_column,
                 read_assignments(assignments, exercises))
    path = write(book, out or out_dir / f"gradebook-{fmt}.csv", fmt, moodle_identifier)
    (out_dir / "gradebook-problems.txt").write_text(
        "".join(line + "\n" for line in book.problems()) or "none\n", encoding="utf-8")
    return path, book
