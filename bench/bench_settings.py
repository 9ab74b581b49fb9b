"""Settings for benchmarks: cityhall's own settings, plus a bare view served by the same process.

Everything comes from ``cityhall.settings`` (and so from the ``CITYHALL_*`` environment
the benchmark sets). Only the URLconf changes: ``CITYHALL_BENCH_URLCONF`` (default
``bare_urls``, found on ``bench/`` which the benchmark puts on the Python path) adds
``/__bench__/bare/`` in front of the site's own URLs, so the framework's ceiling is
measured through the very same server, workers, middleware and settings as the pages.
"""

from __future__ import annotations

import os

from cityhall.settings import *  # noqa: F403
from cityhall.settings import BASE_DIR

ROOT_URLCONF = os.environ.get("CITYHALL_BENCH_URLCONF", "bare_urls")

# Older trees did not list the shared static folder; production storage needs it to
# build the manifest. A no-op where cityhall.settings already lists it.
if not globals().get("STATICFILES_DIRS") and (BASE_DIR / "static").is_dir():
    STATICFILES_DIRS = [BASE_DIR / "static"]
