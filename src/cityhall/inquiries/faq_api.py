"""FAQ search and entries API (helper: search)."""

from ninja import Router

router = Router(tags=["faq"])
