"""Shared fixtures of the inquiries tests."""
