"""Demo data of the notices room, for ``cityhall demo``: the preset templates, the demo
news articles, and two saved segments. Nothing is sent.

Running it again adds nothing (templates by code, articles by slug, segments by name).
"""

from __future__ import annotations

from typing import Any

from cityhall.core.models import Area
from cityhall.notices.models import Segment
from cityhall.notices.services import templates

#: name → (description, filters) of the demo segments.
DEMO_SEGMENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "子育て世帯（上野）": (
        "上野地域に住む、中学生以下の子どもがいる世帯",
        {"areas": ["ueno"], "child_age_min": 0, "child_age_max": 15},
    ),
    "65歳以上・介護": (
        "65歳以上で、家族に介護が必要な方がいる世帯",
        {"age_min": 65, "care": True},
    ),
}


def seed_demo_notices() -> dict[str, int]:
    """Seed templates, demo articles and the demo segments; returns what was added."""
    from cityhall.notices.services import articles, segments

    result = {"templates": templates.seed_templates(), "articles": 0, "segments": 0}
    result["articles"] = articles.seed_demo_articles()
    known_areas = set(Area.objects.values_list("code", flat=True))
    for name, (description, filters) in DEMO_SEGMENTS.items():
        if Segment.objects.filter(name=name).exists():
            continue
        chosen = dict(filters)
        if "areas" in chosen:
            chosen["areas"] = [code for code in chosen["areas"] if code in known_areas]
            if not chosen["areas"]:
                del chosen["areas"]
        segments.save_segment(name, description, chosen, actor=None)
        result["segments"] += 1
    return result
