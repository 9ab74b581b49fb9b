"""Cross-language FAQ search through the municipal glossary."""

from __future__ import annotations

import dataclasses

import pytest

from cityhall.inquiries.search.engine import Document, EngineConfig, FaqEngine
from cityhall.inquiries.search.glossary import DEFAULT_PATH, Glossary, default_glossary

# Japanese-only entries: no translation exists, so only the glossary can reach them.
CORPUS = [
    Document(
        "jumin-009",
        "ja",
        "住民票の写しを取りたいのですが、どうすればよいですか。",
        "住民票の写しは市民課の窓口、支所、コンビニで取れます。本人確認書類をお持ちください。",
        "住民票 住民票の写し",
    ),
    Document(
        "gomi-010",
        "ja",
        "粗大ごみの出し方を教えてください。",
        "粗大ごみは電話で申し込み、処理券を貼って出してください。",
        "粗大ゴミ 家具 捨てる",
    ),
    Document(
        "kodomo-004",
        "ja",
        "児童手当の申請方法を教えてください。",
        "子どもが生まれたり転入したりしたときは、15日以内に認定請求をしてください。",
        "児童手当 申請",
    ),
    Document(
        "bosai-001",
        "ja",
        "災害時の避難所はどこですか。",
        "指定避難所は市のハザードマップで確認できます。",
        "避難場所 避難先",
    ),
    Document(
        "kenko-003",
        "ja",
        "子どもの予防接種のスケジュールと受け方を教えてください。",
        "予防接種は医療機関で受けてください。予診票は母子健康手帳と一緒に届きます。",
        "予防接種 ワクチン",
    ),
    Document(
        "bosai-009",
        "en",
        "What should I put in an emergency bag?",
        "Water, food, medicine, a flashlight and copies of your documents.",
    ),
]

SMALL = """language,term,ja
en,garbage,ごみ
en,residence certificate,住民票
en,certificate,証明書
pt-br,lixo,ごみ
pt-br,atestado de residência,住民票
vi,rác,ごみ
zh-hans,垃圾,ごみ
zh-hans,垃圾分类,ごみ 分別
ja,ごみ,ごみ
fr,poubelle,ごみ
en,,ごみ
en,empty,
"""


def test_parse_skips_japanese_unknown_languages_and_empty_rows() -> None:
    glossary = Glossary.parse(SMALL)
    assert len(glossary) == 8
    assert glossary.translate("poubelle", "fr") == []
    assert glossary.translate("ごみ", "ja") == []
    assert glossary.translate("empty", "en") == []


def test_longest_phrase_wins_and_terms_are_stemmed() -> None:
    glossary = Glossary.parse(SMALL)
    assert glossary.translate("Residence certificates, please", "en") == ["住民票"]
    assert glossary.translate("a certificate", "en") == ["証明書"]
    assert glossary.translate("garbage", "en") == ["ごみ"]


def test_accents_and_vietnamese_diacritics_are_optional() -> None:
    glossary = Glossary.parse(SMALL)
    assert glossary.translate("atestado de residencia", "pt-br") == ["住民票"]
    assert glossary.translate("rác", "vi") == ["ごみ"]
    assert glossary.translate("rac", "vi") == ["ごみ"]


def test_chinese_matches_longest_character_string() -> None:
    glossary = Glossary.parse(SMALL)
    assert glossary.translate("垃圾分类方法", "zh-hans") == ["ごみ", "分別"]
    assert glossary.translate("我的垃圾", "zh-hans") == ["ごみ"]


def test_shipped_glossary_loads_with_every_language() -> None:
    glossary = Glossary.load(DEFAULT_PATH)
    assert default_glossary() is default_glossary()  # loaded once per process
    assert len(glossary) > 1000
    assert glossary.translate("trash", "en") == ["ごみ"]
    assert glossary.translate("lixo", "pt-br") == ["ごみ"]
    assert glossary.translate("basura", "es") == ["ごみ"]
    assert glossary.translate("rác", "vi") == ["ごみ"]
    assert glossary.translate("垃圾", "zh-hans") == ["ごみ"]
    assert glossary.translate("residence card", "en") == ["在留カード"]
    assert "住民票" in glossary.translate("residence certificate", "en")
    assert "児童手当" in glossary.translate("child allowance", "en")
    assert "不燃ごみ" in glossary.translate("não queimável", "pt-br")
    assert "可燃ごみ" in glossary.translate("lixo queimável", "pt-br")


@pytest.fixture(scope="module")
def engine() -> FaqEngine:
    return FaqEngine.build(CORPUS, None, glossary=Glossary.load(DEFAULT_PATH))


@pytest.mark.parametrize(
    ("query", "language", "expected"),
    [
        ("How do I get a residence certificate?", "en", "jumin-009"),
        ("atestado de residência", "pt-br", "jumin-009"),
        ("certificado de residencia", "es", "jumin-009"),
        ("phiếu cư trú", "vi", "jumin-009"),
        ("phieu cu tru", "vi", "jumin-009"),
        ("how to throw away a sofa", "en", "gomi-010"),
        ("como jogar fora um sofá", "pt-br", "gomi-010"),
        ("child allowance application", "en", "kodomo-004"),
        ("trợ cấp nhi đồng", "vi", "kodomo-004"),
        ("儿童津贴申请", "zh-hans", "kodomo-004"),
        ("evacuation shelter", "en", "bosai-001"),
        ("避难所在哪里", "zh-hans", "bosai-001"),
        ("vacuna para niños", "es", "kenko-003"),
    ],
)
def test_other_language_query_finds_japanese_only_entry(
    engine: FaqEngine, query: str, language: str, expected: str
) -> None:
    hits = engine.search(query, language)
    assert hits, query
    assert hits[0][0] == expected


def test_without_glossary_japanese_only_entries_are_out_of_reach() -> None:
    plain = FaqEngine.build(CORPUS, None, glossary=None)
    found = [faq for faq, _ in plain.search("atestado de residência", "pt-br")]
    assert "jumin-009" not in found
    off = FaqEngine.build(CORPUS, None, dataclasses.replace(EngineConfig(), glossary_weight=0.0))
    assert off.glossary_query("residence certificate", "en") == ""


def test_same_language_hit_is_kept(engine: FaqEngine) -> None:
    hits = engine.search("emergency bag", "en")
    assert hits[0][0] == "bosai-009"


def test_glossary_query_is_japanese(engine: FaqEngine) -> None:
    assert engine.glossary_query("garbage", "en") == "ごみ"
    assert engine.glossary_query("ごみの出し方", "ja") == ""
    assert engine.glossary_query("xyzzy", "en") == ""


@pytest.mark.parametrize(
    "query", ["住民票の写しがほしい", "粗大ごみ", "ひなんじょ", "児童手当", "予防接種"]
)
def test_japanese_queries_are_unchanged(engine: FaqEngine, query: str) -> None:
    plain = FaqEngine.build(CORPUS, None, glossary=None)
    assert engine.search(query, "ja") == plain.search(query, "ja")
    assert engine.search(query, "ja-easy") == plain.search(query, "ja-easy")
    assert engine.analyse_query(query, "ja") == plain.analyse_query(query, "ja")
