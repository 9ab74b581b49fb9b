"""cityhall — an open-source digital city hall (Iga City first)."""

__version__ = "0.1.0"
