"""Helpers of the FAQ tests: CSV bytes and a department."""

from __future__ import annotations

from typing import Any

HEADER = "id,question,answer,category,language,url,department,keywords,procedures,review_on"

ROWS = [
    "gomi-001,粗大ごみはどうやって出しますか,粗大ごみ受付センターに電話で申し込んでください。,ごみ,,"
    "https://www.city.iga.lg.jp/gomi,shimin-seikatsu,大型ごみ,,2030-04-01",
    'gomi-001,How do I put out bulky waste?,"Call the bulky waste centre.",,en,,,,,',
    "juminhyo-001,住民票の写しはどこで取れますか,市役所の窓口かコンビニで取れます。,residency,ja,,"
    "shimin-seikatsu,,juminhyo|inkan,",
]


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def default_csv() -> str:
    return csv_text(*ROWS)


def department(code: str = "shimin-seikatsu", name: str = "市民生活課") -> Any:
    from cityhall.people.models import Department

    dept, _ = Department.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "names": {"en": "Citizen Services Division"},
            "phone": "0595-22-9621",
        },
    )
    return dept
