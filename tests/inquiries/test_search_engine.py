"""Ranking of the FAQ engine on a small corpus, other languages and bad queries."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityhall.inquiries.search.baseline import BaselineEngine
from cityhall.inquiries.search.engine import Document, FaqEngine
from cityhall.inquiries.search.synonyms import Synonyms
from tests.inquiries.test_search_analysis import SYNONYMS

CORPUS = [
    Document(
        "gomi-001",
        "ja",
        "燃えるごみはいつ出せますか。",
        "燃えるごみは地区ごとに決められた曜日の朝8時までに集積所に出してください。",
        "可燃ごみ 収集日",
    ),
    Document(
        "gomi-001",
        "en",
        "When can I put out burnable garbage?",
        "Put burnable garbage out by 8 a.m. on your district's collection day.",
    ),
    Document(
        "gomi-001",
        "pt-br",
        "Quando posso colocar o lixo queimável?",
        "Coloque o lixo queimável no ponto de coleta até as 8h.",
    ),
    Document(
        "gomi-002",
        "ja",
        "粗大ごみを出したいのですが。",
        "粗大ごみは戸別収集の申込みが必要です。粗大ごみ処理券を貼ってください。",
        "家具 ソファ",
    ),
    Document(
        "jumin-001",
        "ja",
        "住民票の写しを取りたい。",
        "住民票の写しは市民課の窓口やコンビニで取れます。手数料は300円です。",
    ),
    Document(
        "jumin-001",
        "en",
        "How can I get a copy of my residence certificate?",
        "At the Citizens Division or a convenience store. The fee is 300 yen.",
    ),
    Document(
        "jumin-001",
        "vi",
        "Làm thế nào để lấy bản sao phiếu cư trú?",
        "Bạn có thể lấy tại tòa thị chính hoặc cửa hàng tiện lợi.",
    ),
    Document(
        "ins-001",
        "ja",
        "国民健康保険に加入したい。",
        "会社を辞めたときは14日以内に国民健康保険の加入手続きをしてください。",
    ),
    Document(
        "post-001",
        "ja",
        "郵便物の送付先を変えたい。",
        "通知の送付先の変更は、届出書を窓口に出してください。",
    ),
    Document(
        "dis-001",
        "ja",
        "避難所はどこですか。",
        "指定避難所は市内の小中学校です。ハザードマップで確認してください。",
    ),
]


@pytest.fixture(scope="module")
def engine() -> FaqEngine:
    return FaqEngine.build(CORPUS, Synonyms.load(SYNONYMS))


def top(engine: FaqEngine, query: str, language: str | None = None) -> str | None:
    found = engine.search(query, language)
    return found[0][0] if found else None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ゴミの日はいつ", "gomi-001"),
        ("もえるごみ", "gomi-001"),
        ("ｿﾌｧを捨てたい", "gomi-002"),
        ("住民票ほしいんだけど", "jumin-001"),
        ("じゅうみんひょうのうつし", "jumin-001"),
        ("住民表の写し", "jumin-001"),  # typo
        ("国保に入りたい", "ins-001"),
        ("ひなんじょ", "dis-001"),
    ],
)
def test_japanese_ranking(engine: FaqEngine, query: str, expected: str) -> None:
    assert top(engine, query) == expected


def test_synonyms_expand_at_a_lower_weight(engine: FaqEngine) -> None:
    assert top(engine, "宛先を変えたい") == "post-001"
    _, weights = engine.analyse_query("宛先")
    assert weights["w:宛て先"] == 1.0  # Sudachi's normalized form of 宛先
    assert weights["w:送付先"] == 0.5


def test_one_hit_per_entry_and_best_first(engine: FaqEngine) -> None:
    found = engine.search("ごみ", limit=10)
    ids = [faq_id for faq_id, _ in found]
    assert len(ids) == len(set(ids))
    scores = [score for _, score in found]
    assert scores == sorted(scores, reverse=True)
    assert engine.search("ごみ", limit=1) == found[:1]


@pytest.mark.parametrize(
    ("query", "language", "expected"),
    [
        ("residence certificate copy", "en", "jumin-001"),
        ("burnable garbage", None, "gomi-001"),
        ("lixo queimavel", "pt-br", "gomi-001"),
        ("phiếu cư trú", "vi", "jumin-001"),
        ("phieu cu tru", "vi", "jumin-001"),  # without tones
        ("collection day", "pt-br", "gomi-001"),  # English as the pivot
        ("住民票副本", "zh-hans", "jumin-001"),  # Han characters shared with Japanese
    ],
)
def test_other_languages(
    engine: FaqEngine, query: str, language: str | None, expected: str
) -> None:
    assert top(engine, query, language) == expected


def test_japanese_query_does_not_match_other_language_versions() -> None:
    only_en = FaqEngine.build([Document("x", "en", "garbage", "garbage day")])
    assert only_en.search("ごみ") == []


@pytest.mark.parametrize(
    "query", ["", "   ", "🗑️🗑️", "<script>alert(1)</script>", "あ" * 10_000, "。、！？", "\x00"]
)
def test_bad_queries_answer_sensibly(engine: FaqEngine, query: str) -> None:
    found = engine.search(query)
    assert isinstance(found, list)
    assert all(isinstance(faq_id, str) and score > 0 for faq_id, score in found)


def test_baseline_matches_bigrams() -> None:
    baseline = BaselineEngine.build(CORPUS)
    assert baseline.search("住民票の写し")[0][0] == "jumin-001"
    assert baseline.search("") == []


@settings(max_examples=150, deadline=None)
@given(
    query=st.text(max_size=200), language=st.sampled_from([None, "ja", "en", "vi", "zh-hans", "xx"])
)
def test_any_text_never_raises(engine: FaqEngine, query: str, language: str | None) -> None:
    found = engine.search(query, language, limit=5)
    assert len(found) <= 5
