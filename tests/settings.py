"""Settings for the test suite: cityhall's settings with test-friendly defaults.

Background tasks run inside the request (no worker needed) and the cache is
per process, so tests stay independent. Everything else is the real thing.
"""

import os

os.environ.setdefault("CITYHALL_TASKS_BACKEND", "immediate")
os.environ.setdefault("CITYHALL_CACHE_URL", "locmem://")

from cityhall.settings import *  # noqa: F403

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher"
]  # speed only; not for use outside tests

PAGE_CACHE_SECONDS = 0  # tests see every change at once; tests/core/test_pagecache.py turns it on
