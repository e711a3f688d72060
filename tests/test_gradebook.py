"""From graded reports to gradebooks: rosters, LMS formats, shards, resumed batches, solutions."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest

from trainart.grading import build, cli, grade, gradebook, samples, sandbox, source

GRADING = samples.EXERCISES_DIR / "grading"
SANDBOX = {"unsafe_no_sandbox": not sandbox.available()[0]}
ROSTER = ("id,name,section,email,canvas_id,sis_login_id\n"
          "2026001,\"Kim, Minji\",A,minji@uni.example,101,mkim\n"
          "2026002,Lee Jun,A,jun@uni.example,102,jlee\n"
          "2026003,Park Seo,B,seo@uni.example,103,spark\n"
          "2026004,Choi Ara,B,ara@uni.example,104,achoi\n")


def _report(student, exercise, score, max_score, status="graded"):
    return {"submission": f"subs/{student}.ipynb", "student": student, "exercise": exercise,
            "status": status, "score": score, "max_score": max_score, "checks": [],
            "messages": [], "flags": []}


REPORTS = [
    _report("2026001__optim_adam", "optim_adam", 10, 10),
    _report("2026001__optim_momentum", "optim_momentum", 4, 8),
    _report("optim_adam-2026002", "optim_adam", 3, 10),
    _report("optim_adam-2026002_v2", "optim_adam", 7, 10),  # handed in twice
    _report("2026003__optim_adam", "optim_adam", 0, 10, status="could not grade"),
    _report("20260011__optim_adam", "optim_adam", 10, 10),  # no such student
    _report("2026001_2026002_optim_adam", "optim_adam", 10, 10),  # names two students
    _report("2026003__notes", "", 0, 0, status="rejected"),
]


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return path


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_matching_is_by_whole_token():
    patterns = {sid: gradebook._token_pattern(sid) for sid in ("2026001", "kim@uni.ex")}
    assert gradebook.match_student("2026001__optim_adam", patterns) == ["2026001"]
    assert gradebook.match_student("hw-2026001.v2", patterns) == ["2026001"]
    assert gradebook.match_student("20260011__optim_adam", patterns) == []
    assert gradebook.match_student("x2026001", patterns) == []
    assert gradebook.match_student("KIM@UNI.EX__optim_adam", patterns) == ["kim@uni.ex"]


def test_every_file_and_every_student_is_accounted_for(roster):
    book = gradebook.build(REPORTS, gradebook.read_roster(roster))
    problems = "\n".join(book.problems())
    assert "subs/20260011__optim_adam.ipynb: no roster id in its name" in problems
    assert "names several students (2026001, 2026002)" in problems
    assert "no submission from student 2026004" in problems
    assert "student 2026002 handed in optim_adam 2 times" in problems
    assert "student 2026003: optim_adam could not be graded" in problems
    assert "student 2026003: subs/2026003__notes.ipynb was rejected" in problems
    assert book.scores["2026001"] == {"optim_adam": 10, "optim_momentum": 4}
    assert book.scores["2026002"] == {"optim_adam": 7, "optim_momentum": None}  # the best
    assert book.scores["2026003"] == {"optim_adam": None, "optim_momentum": None}  # regrade
    assert book.scores["2026004"] == {"optim_adam": None, "optim_momentum": None}


def test_canvas_columns_follow_its_import_format(roster, tmp_path):
    spec = tmp_path / "a.toml"
    spec.write_text('[[assignment]]\nname = "Homework 1"\ncanvas_id = 4711\npoints = 20\n'
                    'exercises = ["optim_adam", "optim_momentum"]\n', encoding="utf-8")
    book = gradebook.build(REPORTS, gradebook.read_roster(roster),
                           assignments=gradebook.read_assignments(spec, []))
    rows = _rows(gradebook.write(book, tmp_path / "canvas.csv", "canvas"))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "Homework 1 (4711)"]
    assert rows[1] == ["Kim, Minji", "101", "2026001", "mkim", "A", "15.56"]  # 14/18 of 20
    assert rows[2] == ["Lee Jun", "102", "2026002", "jlee", "A", "7.78"]  # 7/18 of 20
    assert rows[3][-1] == "" and rows[4][-1] == ""  # to grade again; nothing handed in
    assert len(rows) == 5


def test_moodle_has_an_identifier_column_and_a_grade_per_assignment(roster, tmp_path):
    book = gradebook.build(REPORTS, gradebook.read_roster(roster))
    rows = _rows(gradebook.write(book, tmp_path / "m.csv", "moodle", "email"))
    assert rows[0] == ["Email address", "optim_adam", "optim_momentum"]
    assert rows[1] == ["minji@uni.example", "10", "4"]
    rows = _rows(gradebook.write(book, tmp_path / "m.csv", "moodle"))
    assert rows[0][0] == "ID number" and [r[0] for r in rows[1:]] == [
        "2026001", "2026002", "2026003", "2026004"]
    with pytest.raises(gradebook.GradebookError, match="needs a 'username' column"):
        gradebook.moodle_rows(book, "username")


@pytest.mark.parametrize("text,message", [
    ("name,section\nKim,A\n", "has no 'id' column"),
    ("id,name\n1,a\n1,b\n", "student id '1' appears twice"),
    ("id,name\n,a\n", "line 2: the 'id' is empty"),
    ("id\n", "has no students"),
])
def test_bad_rosters_are_refused_with_the_reason(tmp_path, text, message):
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(gradebook.GradebookError, match=message):
        gradebook.read_roster(path)


@pytest.mark.parametrize("text,message", [
    ("[[assignment]]\nexercises = ['a']\n", "'name' must be a non-empty string"),
    ("[[assignment]]\nname = 'H'\n", "'exercises' must be a list"),
    ("[[assignment]]\nname = 'H'\nexercises = ['a']\npoints = -1\n", "positive number"),
    ("name = 'H'\n", "expected one or more"),
    ("[[assignment\n", "not valid TOML"),
])
def test_bad_assignment_files_are_refused_with_the_reason(tmp_path, text, message):
    path = tmp_path / "a.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(gradebook.GradebookError, match=message):
        gradebook.read_assignments(path, [])


def test_shards_split_a_batch_the_same_way_everywhere():
    names = [f"s{i:03d}__optim_adam" for i in range(300)]
    parts = [[n for n in names if grade.in_shard(n, (i, 3))] for i in (1, 2, 3)]
    assert sorted(sum(parts, [])) == names and all(60 < len(p) < 140 for p in parts)
    assert grade.parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "1", "a/b"):
        with pytest.raises(ValueError, match="--shard must be I/N"):
            grade.parse_shard(bad)


# ---------------------------------------------------------- a real class, end to end
@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    subs = tmp_path_factory.mktemp("subs")
    for sid in ("2026001", "2026002"):
        (subs / sid).mkdir()
        nbformat.write(samples.reference("optim_adam"), subs / sid / "optim_adam.ipynb")
    nbformat.write(samples.student("optim_adam"), subs / "optim_adam-2026003.ipynb")
    (subs / "stray.txt").write_text("not mine")
    return subs


def test_the_command_grades_exports_and_resumes(batch, tmp_path, roster, monkeypatch, capsys):
    out = tmp_path / "out"
    flags = ["--jobs", "2", "--no-progress", "--grading-dir", str(GRADING)]
    flags += ["--unsafe-no-sandbox"] if SANDBOX["unsafe_no_sandbox"] else []
    assert cli.main(["grade", str(batch), "--out", str(out), *flags, "--roster", str(roster),
                     "--format", "canvas"]) == 0
    said = capsys.readouterr().out
    assert "check: unmatched submission:" in said and "stray.txt" in said
    assert "check: no submission from student 2026004" in said
    rows = _rows(out / "gradebook-canvas.csv")
    assert [r[2] for r in rows[1:]] == ["2026001", "2026002", "2026003", "2026004"]
    assert [r[-1] for r in rows[1:]] == ["10", "10", "0", ""]

    ran = []
    original = grade.run_job
    monkeypatch.setattr(grade, "run_job", lambda job, *a: ran.append(job) or original(job, *a))
    nbformat.write(samples.reference("optim_adam"), batch / "optim_adam-2026003.ipynb")
    assert cli.main(["grade", str(batch), "--out", str(out), *flags]) == 0
    assert sorted(j.report.student for j in ran) == ["__canary__", "optim_adam-2026003"]
    reports = {r["student"]: r for r in gradebook.read_reports(out)}
    assert reports["optim_adam-2026003"]["score"] == 10
    assert reports["2026001__optim_adam"]["score"] == 10  # reused, still there
    assert cli.main(["export", str(out), "--roster", str(roster), "--format", "moodle"]) == 0
    assert _rows(out / "gradebook-moodle.csv")[3] == ["2026003", "10"]


def test_shards_graded_apart_merge_into_the_whole_class(batch, tmp_path):
    whole = grade.grade([batch], tmp_path / "whole", grading_dir=GRADING, jobs=2,
                        progress=False, canary=False, **SANDBOX)
    parts = [grade.grade([batch], tmp_path / f"part{i}", grading_dir=GRADING, jobs=2,
                         progress=False, canary=False, shard=(i, 2), **SANDBOX)
             for i in (1, 2)]
    assert sorted(r.student for p in parts for r in p) == sorted(r.student for r in whole)
    merged = grade.merge([tmp_path / "part1", tmp_path / "part2"], tmp_path / "merged")
    assert [(r.student, r.score) for r in merged] == sorted(
        (r.student, r.score) for r in whole)
    assert len(_rows(tmp_path / "merged" / "class.csv")) == len(whole) + 1
    # the same student graded from another file in two folders is a conflict
    clash = json.loads((tmp_path / "part1" / f"{parts[0][0].student}.json").read_text())
    clash["fingerprint"] = "another file"
    (tmp_path / "part2" / f"{parts[0][0].student}.json").write_text(json.dumps(clash))
    with pytest.raises(ValueError, match="different files or grading"):
        grade.merge([tmp_path / "part1", tmp_path / "part2"], tmp_path / "merged2")


def test_released_solutions_pass_their_checks_and_keep_hidden_ones_secret(tmp_path):
    (path,) = build.release_solutions(["optim_clipping"], tmp_path,
                                      samples.EXERCISES_DIR / "src")
    nb = nbformat.read(path, as_version=4)
    ex = source.parse_exercise(samples.EXERCISES_DIR / "src" / "optim_clipping.py")
    text = json.dumps(nb)
    assert all(json.dumps(source.reference_source(c))[1:-1] in text for c in ex.solutions)
    assert not any(c.get("id") == h.id for c in nb.cells for h in ex.checks if h.hidden)
    graded = grade.grade([path], tmp_path / "out", grading_dir=GRADING, jobs=1,
                         progress=False, canary=False, **SANDBOX)
    assert graded[0].score == graded[0].max_score > 0
    with pytest.raises(ValueError, match="unknown exercise 'optim_nothing'"):
        build.release_solutions(["optim_nothing"], tmp_path, samples.EXERCISES_DIR / "src")
    student = nbformat.read(samples.EXERCISES_DIR / "optim_clipping.ipynb", as_version=4)
    assert "trainart release-solutions optim_clipping" in student.cells[-1].source
