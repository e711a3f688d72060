"""The Reference part: every technique row links code, tests, a section and an exercise that
exist, and every public module of trainart has a page.

The build (`jupyter-book build -n -W`) fails on a reference that does not resolve; these tests
check what the build cannot: that a technique's test file really tests its code, that the
exercise exists, and that no module is left out of the API pages.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TECHNIQUES = ROOT / "reference" / "techniques.md"
API = ROOT / "reference" / "api"
ROLE = re.compile(r"\{py:(?:func|class|meth|mod|data|attr)\}`~?([\w.]+)`")
LABEL = re.compile(r"\{ref\}`(?:[^`<]*<)?([\w-]+)>?`")


def _rows() -> list[dict]:
    rows, header = [], None
    for line in TECHNIQUES.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|") or set(line) <= set("|- "):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
        if [c.lower() for c in cells] == header:
            continue
        rows.append(dict(zip(header, cells)))
    return rows


def _chapter_labels() -> set[str]:
    labels = set()
    for path in (ROOT / "chapters").rglob("*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "markdown":
                labels |= set(re.findall(r"^\(([\w-]+)\)=\s*$", "".join(cell["source"]), re.M))
    return labels


def _resolve(dotted: str):
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(dotted)


ROWS = _rows()


def test_the_index_has_rows_with_every_column():
    assert len(ROWS) >= 40
    for row in ROWS:
        assert set(row) >= {"technique", "code", "tests", "section", "exercise"}, row


@pytest.mark.parametrize("row", ROWS, ids=[r["technique"][:40] for r in ROWS])
def test_each_technique_links_what_exists(row):
    names = ROLE.findall(row["code"])
    assert names, f"{row['technique']}: no code reference"
    objects = [_resolve(n) for n in names]
    tests = re.findall(r"`(tests/[\w/]+\.py)`", row["tests"])
    assert tests, f"{row['technique']}: no test file"
    text = "".join((ROOT / t).read_text(encoding="utf-8") for t in tests)
    for name, obj in zip(names, objects):
        short = getattr(obj, "__name__", name.rsplit(".", 1)[-1]).rsplit(".", 1)[-1]
        assert short in text, f"{row['technique']}: {', '.join(tests)} never names {short}"
    labels = LABEL.findall(row["section"])
    assert labels and set(labels) <= _chapter_labels(), (row["technique"], labels)
    for ex in re.findall(r"`exercises/([\w]+)\.ipynb`", row["exercise"]):
        assert (ROOT / "exercises" / f"{ex}.ipynb").exists(), ex
    assert re.findall(r"`exercises/", row["exercise"]) or row["exercise"] in ("", "—"), row


def test_every_exercise_is_in_the_index():
    listed = set(re.findall(r"exercises/(\w+)\.ipynb", TECHNIQUES.read_text(encoding="utf-8")))
    exercises = {p.stem for p in (ROOT / "exercises" / "src").glob("*.py")}
    assert exercises <= listed, sorted(exercises - listed)


def _public_modules() -> set[str]:
    out = set()
    for path in (ROOT / "trainart").rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts) or parts[:2] in (["trainart", "grading"],
                                                                   ["trainart", "book"]):
            continue
        out.add(".".join(parts))
    return out


def test_every_public_module_has_a_reference_page():
    """A module is on a page itself, or its package's page documents its public names."""
    documented = set()
    for page in API.glob("*.md"):
        documented |= set(re.findall(r"automodule:: ([\w.]+)", page.read_text(encoding="utf-8")))
    missing = []
    for module in sorted(_public_modules() - {"trainart"}):
        package = module.rsplit(".", 1)[0]
        if module in documented:
            continue
        if package in documented and package != "trainart":
            pkg = importlib.import_module(package)
            mod = importlib.import_module(module)
            public = getattr(mod, "__all__", None) or [
                n for n, v in vars(mod).items() if not n.startswith("_")
                and getattr(v, "__module__", None) == module and callable(v)]
            left = set(public) - set(getattr(pkg, "__all__", []))
            if not left:
                continue
            module = f"{module} ({', '.join(sorted(left))})"
        missing.append(module)
    assert not missing, f"modules without a reference page: {missing}"
