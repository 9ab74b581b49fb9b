"""Shared fixtures of the inquiries tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _small_corpus_min_score(settings: Any) -> None:
    """The tests' FAQ corpora hold a handful of entries, whose BM25 scores are far lower
    than those of the city's 372 (the default threshold is calibrated on those, see
    test_chat_threshold.py): accept any positive score here."""
    settings.FAQ_MIN_SCORE = 1.0
