"""Settings for ``bench/form_submit.py``: the benchmark settings plus its own URLs.

Everything comes from ``bench_settings`` (that is, ``cityhall.settings`` and the
``CITYHALL_*`` environment the benchmark sets). Two changes: the URLconf adds the
baseline endpoint ``/__bench__/store/`` (see ``form_submit_urls.py``), and the per-resident
submission limit of the API is lifted, since the benchmark's residents submit far more
than a person would (the API-wide limit is lifted through ``CITYHALL_API_RATE``).
"""

from __future__ import annotations

from bench_settings import *  # noqa: F403

ROOT_URLCONF = "form_submit_urls"
APPLICATION_SUBMIT_RATE = "100000000/h"
