"""Build the Korean edition next to the English one: ``_build/html/ko``.

    python tools/editions.py html [--builder html] [-- extra jupyter-book arguments]

The Korean edition is the same book built with ``language: ko``: Sphinx reads the prose's
translations from ``locales/ko/LC_MESSAGES`` and everything else (code, outputs, figures) from
the same sources and the same jupyter-cache, so no notebook executes twice. Its configuration
is ``_config.yml`` with the language set, written to ``_build/ko/_config.yml``; the build runs
in ``_build/ko`` and its HTML is copied into ``_build/html/ko``, under the English edition, so
one folder serves both and each page's language switch is a relative link.

``pdf`` builds the PDF of each edition with XeLaTeX (``make pdf``; ``_config.yml``'s ``latex``
section and ``latex_elements``) and copies both into the site, as
``_build/html/pdf/training-art-en.pdf`` and ``training-art-ko.pdf``, where the front page's
``{edition-pdf}`` links point.

    python tools/editions.py html [-- extra jupyter-book arguments]
    python tools/editions.py pdf
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LANGUAGE = "ko"
WORK = ROOT / "_build" / LANGUAGE
ENGLISH_HTML = ROOT / "_build" / "html"


def write_config(language: str = LANGUAGE, work: Path = WORK) -> Path:
    """_config.yml with ``sphinx.config.language`` set, and paths made absolute."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["language"] = language
    sphinx_config["locale_dirs"] = [str(ROOT / d) for d in sphinx_config.get("locale_dirs", [])]
    config["execute"]["cache"] = str(ROOT / config["execute"]["cache"])
    local = config["sphinx"].get("local_extensions") or {}
    config["sphinx"]["local_extensions"] = {name: str(ROOT / p) for name, p in local.items()}
    work.mkdir(parents=True, exist_ok=True)
    path = work / "_config.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


PDF_NAME = "training-art"
PDF_FOLDER = ENGLISH_HTML / "pdf"


def jupyter_book(builder: str, extra: list[str], korean: bool) -> int:
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT),
           "--builder", builder, *extra]
    if korean:
        cmd += ["--config", str(write_config()), "--path-output", str(WORK)]
    return subprocess.run(cmd, cwd=ROOT).returncode


def build_pdfs() -> int:
    """Both editions' PDFs, copied to _build/html/pdf/training-art-{en,ko}.pdf."""
    PDF_FOLDER.mkdir(parents=True, exist_ok=True)
    for language, latex in (("en", ROOT / "_build" / "latex"),
                            (LANGUAGE, WORK / "_build" / "latex")):
        if jupyter_book("pdflatex", [], korean=language != "en") != 0:
            print(f"editions: the {language} PDF failed; its log: {latex / PDF_NAME}.log")
            return 1
        shutil.copy(latex / f"{PDF_NAME}.pdf", PDF_FOLDER / f"{PDF_NAME}-{language}.pdf")
    print(f"The PDFs are in {PDF_FOLDER.relative_to(ROOT)}")
    return 0


def build_html(extra: list[str]) -> int:
    if jupyter_book("html", extra, korean=True) != 0:
        return 1
    built, target = WORK / "_build" / "html", ENGLISH_HTML / LANGUAGE
    if target.exists():
        shutil.rmtree(target)
    ENGLISH_HTML.mkdir(parents=True, exist_ok=True)
    shutil.copytree(built, target)
    print(f"The Korean edition is in {target.relative_to(ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["html", "pdf"])
    parser.add_argument("extra", nargs=argparse.REMAINDER,
                        help="arguments passed to jupyter-book build (after --)")
    args = parser.parse_args(argv)
    extra = [a for a in args.extra if a != "--"]
    return build_html(extra) if args.what == "html" else build_pdfs()


if __name__ == "__main__":
    sys.exit(main())
