"""Shared test set-up: a headless matplotlib backend, reproducible hypothesis runs, the
small digits data set several test files train on, and the built book served to Debian's
chromium for the browser tests (test_site.py, test_site_editions.py)."""

import os
from pathlib import Path

import pytest
from _serve import CHROMIUM, CHROMIUM_ARGS, HTML, serve
from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")

# The same examples on every run and every machine: a property test that fails in CI fails
# locally too (set HYPOTHESIS_PROFILE=explore for fresh random examples).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module")
def digits():
    """scikit-learn's 8x8 digits (shipped with the package), loaded once per test module."""
    from trainart.data import load_digits

    return load_digits()


@pytest.fixture(scope="module")
def base_url():
    """The built book (both editions) served on 127.0.0.1."""
    if not (HTML / "index.html").exists():
        pytest.fail("_build/html is missing: run `make book` first")
    with serve(HTML) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright (never `playwright install`), once per module."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (make test does it)")
    try:
        from playwright import sync_api
    except ImportError:
        pytest.fail("playwright is missing: pip install -r requirements.txt")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
