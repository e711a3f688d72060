"""The Korean edition's catalogs: extract, update, list what is left, fill, check.

The book's prose is translated through Sphinx's gettext workflow. ``extract`` builds the
message templates (``.pot``, one per page; code cells, outputs and figures are not in them)
and updates ``locales/ko/LC_MESSAGES/<page>.po`` with sphinx-intl, which marks an entry whose
English changed as fuzzy. ``todo`` lists the entries still to translate, ``fill`` writes
translations into a catalog, and ``check`` fails on anything untranslated, fuzzy or
inconsistent with the English (another set of cross-references, math or code spans, a glossary
term that is not the glossary's Korean term).

The API reference (``reference/api/*`` except its index) is trainart's docstrings: it stays
English in both editions, as PyTorch's own Korean documentation keeps its API pages English.

    python tools/i18n.py extract                 # templates + catalogs for every page
    python tools/i18n.py todo chapters/dropout/01_dropout
    python tools/i18n.py fill chapters/dropout/01_dropout answers.json
    python tools/i18n.py check                   # exit 1 on any problem
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
LANGUAGE = "ko"
CATALOGS = LOCALES / LANGUAGE / "LC_MESSAGES"
TEMPLATES = ROOT / "_build" / "gettext"
LINE_WIDTH = 0  # one line per message: diffs show whole sentences


def in_scope(page: str) -> bool:
    """Whether a page's prose is translated (everything but the API reference's pages).

    ``sphinx`` is the themes' template strings: its catalog is written by hand."""
    if page == "sphinx":
        return False
    return not page.startswith("reference/api/") or page == "reference/api/index"


def build_templates(out: Path = TEMPLATES) -> Path:
    """Run Sphinx's gettext builder over the book (notebook outputs come from the cache)."""
    work = out.parent / (out.name + "-build")
    jupyter_book = str(Path(sys.executable).parent / "jupyter-book")
    cmd = [jupyter_book, "build", str(ROOT), "--builder", "custom", "--custom-builder", "gettext",
           "--path-output", str(work), "--quiet"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"i18n extract: the gettext build failed:\n{proc.stdout}\n{proc.stderr}")
    built = work / "_build" / "gettext"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for pot in built.rglob("*.pot"):
        page = pot.relative_to(built).with_suffix("").as_posix()
        if in_scope(page):
            (out / pot.relative_to(built)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(pot, out / pot.relative_to(built))
    return out


def update_catalogs(templates: Path, pages: list[str] | None = None) -> None:
    """sphinx-intl's update for the pages asked for (all in-scope pages by default)."""
    from sphinx_intl.basic import update

    if pages:
        chosen = templates.parent / (templates.name + "-chosen")
        if chosen.exists():
            shutil.rmtree(chosen)
        for page in pages:
            src = templates / f"{page}.pot"
            if not src.exists():
                sys.exit(f"i18n: no template for page {page!r} (is it in _toc.yml?)")
            (chosen / page).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, chosen / f"{page}.pot")
        templates = chosen
    update(str(LOCALES), str(templates), (LANGUAGE,), line_width=LINE_WIDTH, jobs=1)


def catalog_path(page: str) -> Path:
    page = page.removesuffix(".po").removesuffix(".ipynb").removesuffix(".md")
    return CATALOGS / f"{page}.po"


def load(path: Path):
    with path.open("rb") as f:
        return read_po(f, locale=LANGUAGE)


def save(catalog, path: Path) -> None:
    with path.open("wb") as f:
        write_po(f, catalog, width=LINE_WIDTH, omit_header=False, include_previous=True)


def todo(page: str) -> list[dict]:
    """The entries of a page's catalog that are untranslated or fuzzy."""
    catalog = load(catalog_path(page))
    left = []
    for message in catalog:
        if not message.id:
            continue
        if not message.string or message.fuzzy:
            entry = {"msgid": message.id, "msgstr": message.string or ""}
            if message.fuzzy and message.previous_id:
                entry["previous_english"] = message.previous_id[0]
            left.append(entry)
    return left


def fill(page: str, answers: dict[str, str]) -> int:
    """Write translations (msgid -> Korean) into a page's catalog; clears their fuzzy flag."""
    path = catalog_path(page)
    catalog = load(path)
    written = 0
    for msgid, msgstr in answers.items():
        message = catalog.get(msgid)
        if message is None:
            sys.exit(f"i18n fill: {path.name} has no entry {msgid[:60]!r}")
        message.string = msgstr
        message.flags.discard("fuzzy")
        message.previous_id = ()
        written += 1
    save(catalog, path)
    return written


# What must survive translation unchanged: cross-references (other than glossary terms), math,
# inline code, links' targets and footnotes.
_ROLE = re.compile(r"\{(\w+(?::\w+)?)\}`([^`]*)`")
_MATH = re.compile(r"(?<!\\)\$\$?[^$]+\$\$?")
_CODE = re.compile(r"(?<![`{])``?[^`]+``?")
_LINK = re.compile(r"\]\(([^)]+)\)")


def _role_target(text: str) -> str:
    match = re.search(r"<([^<>]+)>\s*$", text)
    return (match.group(1) if match else text).strip()


def glossary_terms() -> dict[str, str]:
    """English glossary term -> its Korean term, read from the glossary's catalog."""
    catalog = load(catalog_path("glossary"))
    english = _english_glossary_terms()
    return {m.id: m.string for m in catalog if m.id in english and m.string}


def _english_glossary_terms() -> set[str]:
    text = (ROOT / "glossary.md").read_text(encoding="utf-8")
    terms, inside = set(), False
    for line in text.splitlines():
        if line.startswith("```{glossary}"):
            inside = True
        elif line.startswith("```"):
            inside = False
        elif inside and line and not line.startswith((" ", ":")):
            terms.add(line.strip())
    return terms


def problems_in(page: str, terms: dict[str, str]) -> list[str]:
    """Everything wrong with one page's catalog, as messages naming the entry."""
    path = catalog_path(page)
    if not path.exists():
        return [f"{page}: no catalog {path.relative_to(ROOT)} (run tools/i18n.py extract)"]
    found = []
    lower_terms = {k.lower(): v for k, v in terms.items()}
    for message in load(path):
        if not message.id:
            continue
        where = f"{path.relative_to(ROOT)}: {message.id[:70]!r}"
        if message.fuzzy:
            found.append(f"{where}: fuzzy (the English changed; update the Korean)")
            continue
        if not message.string:
            found.append(f"{where}: untranslated")
            continue
        src, dst = message.id, message.string
        roles_src = [(r, _role_target(t)) for r, t in _ROLE.findall(src) if r != "term"]
        roles_dst = [(r, _role_target(t)) for r, t in _ROLE.findall(dst) if r != "term"]
        if sorted(roles_src) != sorted(roles_dst):
            found.append(f"{where}: cross-references differ: {roles_src} vs {roles_dst}")
        terms_src = [_role_target(t).lower() for r, t in _ROLE.findall(src) if r == "term"]
        terms_dst = [_role_target(t) for r, t in _ROLE.findall(dst) if r == "term"]
        wanted = [lower_terms.get(t, f"<no glossary term {t!r}>") for t in terms_src]
        if sorted(wanted) != sorted(terms_dst):
            found.append(f"{where}: glossary terms should be {wanted}, are {terms_dst}")
        strip = _ROLE.sub("", src), _ROLE.sub("", dst)
        if sorted(_MATH.findall(strip[0])) != sorted(_MATH.findall(strip[1])):
            found.append(f"{where}: math differs")
        if sorted(_CODE.findall(strip[0])) != sorted(_CODE.findall(strip[1])):
            found.append(f"{where}: code spans differ")
        if sorted(_LINK.findall(src)) != sorted(_LINK.findall(dst)):
            found.append(f"{where}: link targets differ")
    return found


def pages_with_templates(templates: Path = TEMPLATES) -> list[str]:
    return sorted(p.relative_to(templates).with_suffix("").as_posix()
                  for p in templates.rglob("*.pot"))


def catalog_pages() -> list[str]:
    return sorted(p.relative_to(CATALOGS).with_suffix("").as_posix()
                  for p in CATALOGS.rglob("*.po") if p.name != "sphinx.po")


def check(pages: list[str] | None = None) -> list[str]:
    terms = glossary_terms()
    korean = list(terms.values())
    found = [f"glossary: Korean term {t!r} is used for two English terms"
             for t in sorted(set(korean)) if korean.count(t) > 1]
    for page in pages or catalog_pages():
        found += problems_in(page, terms)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("extract", help="build the templates and update the catalogs")
    p.add_argument("pages", nargs="*", help="only these pages' catalogs (default: all)")
    p.add_argument("--templates", type=Path, default=TEMPLATES,
                   help="where the .pot files go (a private folder for parallel work)")
    p = sub.add_parser("todo", help="untranslated and fuzzy entries of a page, as JSON")
    p.add_argument("page")
    p = sub.add_parser("fill", help="write translations from a JSON {msgid: msgstr}")
    p.add_argument("page")
    p.add_argument("answers", type=Path)
    p = sub.add_parser("check", help="fail on untranslated, fuzzy or inconsistent entries")
    p.add_argument("pages", nargs="*")
    args = parser.parse_args(argv)

    if args.command == "extract":
        update_catalogs(build_templates(args.templates), args.pages or None)
    elif args.command == "todo":
        json.dump(todo(args.page), sys.stdout, ensure_ascii=False, indent=1)
        print()
    elif args.command == "fill":
        answers = json.loads(args.answers.read_text(encoding="utf-8"))
        print(f"{fill(args.page, answers)} entries written to {catalog_path(args.page)}")
    elif args.command == "check":
        found = check(args.pages or None)
        for line in found:
            print(line)
        print(f"{len(found)} problem(s)" if found else "catalogs complete")
        return 1 if found else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
