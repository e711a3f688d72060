"""Build the Korean edition next to the English one: ``_build/html/ko``.

    python tools/editions.py html [--builder html] [-- extra jupyter-book arguments]

The Korean edition is the same book built with ``language: ko``: Sphinx reads the prose's
translations from ``locales/ko/LC_MESSAGES`` and everything else (code, outputs, figures) from
the same sources and the same jupyter-cache, so no notebook executes twice. Its configuration
is ``_config.yml`` with the language set, written to ``_build/ko/_config.yml``; the build runs
in ``_build/ko`` and its HTML is copied into ``_build/html/ko``, under the English edition, so
one folder serves both and each page's language switch is a relative link.

``--builder latex`` writes the Korean LaTeX sources instead (``make pdf``).
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


def build(builder: str, extra: list[str]) -> int:
    config = write_config()
    jupyter_book = str(Path(sys.executable).parent / "jupyter-book")
    cmd = [jupyter_book, "build", str(ROOT), "--config", str(config), "--path-output", str(WORK),
           "--builder", builder, *extra]
    proc = subprocess.run(cmd, cwd=ROOT)
    if proc.returncode != 0 or builder != "html":
        return proc.returncode
    built, target = WORK / "_build" / "html", ENGLISH_HTML / LANGUAGE
    if target.exists():
        shutil.rmtree(target)
    ENGLISH_HTML.mkdir(parents=True, exist_ok=True)
    shutil.copytree(built, target)
    print(f"The Korean edition is in {target.relative_to(ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["html", "latex"])
    parser.add_argument("extra", nargs=argparse.REMAINDER,
                        help="arguments passed to jupyter-book build (after --)")
    args = parser.parse_args(argv)
    extra = [a for a in args.extra if a != "--"]
    return build("html" if args.what == "html" else "latex", extra)


if __name__ == "__main__":
    sys.exit(main())
