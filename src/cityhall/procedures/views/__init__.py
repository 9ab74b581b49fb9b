"""Resident-facing pages: catalogue and guide (catalogue.py), applications (apply.py)."""
