"""A folder served on 127.0.0.1 for the browser tests (the book, the grading dashboard), and
where the built book and Debian's chromium are."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading
from pathlib import Path

# TRAINART_SITE points the test at another build (e.g. a scratch copy of the book).
HTML = Path(os.environ.get("TRAINART_SITE",
                           Path(__file__).resolve().parents[1] / "_build" / "html"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder: Path):
    """Serve ``folder`` on a free port of 127.0.0.1; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
