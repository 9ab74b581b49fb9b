"""Kana-only queries (reading field) and typo correction of the FAQ engine."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityhall.inquiries.search.analysis import (
    ReadingOptions,
    fold_reading,
    is_kana_only,
    reading_ngrams,
    reading_runs,
    typo_spans,
)
from cityhall.inquiries.search.engine import Document, EngineConfig, FaqEngine

CORPUS = [
    Document(
        "jumin-009",
        "ja",
        "住民票の写しを取りたいのですが、どうすればよいですか。",
        "住民票の写しは市民生活課の窓口やコンビニで取れます。",
        "住民票|住民票の写し|住民票 発行",
    ),
    Document(
        "zei-001",
        "ja",
        "市県民税（住民税）とは、どのような税金ですか。",
        "市県民税は1月1日に住んでいる市町村で課税されます。",
        "住民税|市民税|県民税",
    ),
    Document(
        "gomi-010",
        "ja",
        "粗大ごみの出し方を教えてください。",
        "粗大ごみは電話で申し込み、処理券を貼って出してください。",
        "粗大ゴミ|大型ごみ|家具 捨てる",
    ),
    Document(
        "kaigo-001",
        "ja",
        "介護保険のサービスを利用したいです。要介護認定の申請方法を教えてください。",
        "介護保険のサービスを使うには要介護認定の申請が必要です。",
        "介護認定|要介護認定|介護申請",
    ),
    Document(
        "jumin-018",
        "ja",
        "婚姻届はどこに出せばよいですか。",
        "婚姻届は市民生活課の窓口に出してください。",
        "婚姻届|結婚|入籍",
    ),
    Document(
        "gaikoku-004",
        "ja",
        "在留カードをなくしました。どうすればよいですか。",
        "在留カードをなくしたときは警察に遺失届を出し、入管で再交付を受けてください。",
        "在留カード 紛失|再交付",
    ),
    Document(
        "sumai-013",
        "ja",
        "市営住宅に入居したいのですが、どうすれば申し込めますか。",
        "市営住宅の入居者は年4回募集します。",
        "市営住宅|公営住宅|入居 申込",
    ),
    Document(
        "mynum-001",
        "ja",
        "マイナンバーカードを申請するには、どうすればよいですか。",
        "マイナンバーカードはスマートフォンや郵送で申請できます。",
        "マイナンバーカード 申請|個人番号カード",
    ),
    Document(
        "mynum-001",
        "en",
        "How do I apply for a My Number Card?",
        "Apply by smartphone or by post.",
    ),
]


@pytest.fixture(scope="module")
def engine() -> FaqEngine:
    return FaqEngine.build(CORPUS, None, glossary=None)


def top(engine: FaqEngine, query: str) -> str | None:
    found = engine.search(query, "ja")
    return found[0][0] if found else None


def test_fold_reading() -> None:
    assert fold_reading("マイナンバーカード") == "まいなんばかど"
    assert fold_reading("じゅうみんひょう") == "じゆうみんひよう"
    assert fold_reading("がっこう", ReadingOptions(voiced=True)) == "かつこう"
    assert fold_reading("がっこう", ReadingOptions(small_kana=False)) == "がっこう"


def test_kana_text_is_its_own_reading() -> None:
    assert is_kana_only("じゅうみんひょう とりたい")
    assert not is_kana_only("住民票 とりたい")
    assert not is_kana_only("residence")
    # Sudachi would cut じゅう|みん|ひょう; the reading is kept whole.
    assert reading_runs("じゅうみんひょう とりたい") == ["じゅうみんひょう", "とりたい"]
    assert reading_runs("住民票の写し|粗大ゴミ") == ["じゅうみんひょうのうつし", "そだいごみ"]


def test_reading_ngrams_of_kanji_and_kana_meet() -> None:
    kana = set(reading_ngrams("じゅうみんひょう"))
    kanji = set(reading_ngrams("住民票"))
    assert kana == kanji
    assert {"じゆう", "みんひ"} <= kana
    assert reading_ngrams("") == []
    assert reading_ngrams("ね") == ["ね"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("じゅうみんひょう とりたい", "jumin-009"),
        ("じゅうみんぜい とは", "zei-001"),
        ("そだいごみ だしかた", "gomi-010"),
        ("かいごほけん しんせい", "kaigo-001"),
        ("こんいんとどけ", "jumin-018"),
        ("ざいりゅうかーど なくした", "gaikoku-004"),
        ("まいなんばかーど しんせい", "mynum-001"),
        ("ｼｴｲｼﾞｭｳﾀｸ", "sumai-013"),
    ],
)
def test_kana_only_queries(engine: FaqEngine, query: str, expected: str) -> None:
    assert top(engine, query) == expected


def test_kana_queries_need_the_reading_field() -> None:
    kinds = {k: v for k, v in EngineConfig().kinds.items() if k != "p"}
    without = FaqEngine.build(
        CORPUS, None, dataclasses.replace(EngineConfig(), kinds=kinds), glossary=None
    )
    _, weights = without.analyse_query("じゅうみんひょう とりたい", "ja")
    assert not any(term.startswith("p:") for term in weights)
    with_field = FaqEngine.build(CORPUS, None, glossary=None)
    _, weights = with_field.analyse_query("じゅうみんひょう とりたい", "ja")
    assert weights["p:じゆう"] > 0


def test_homophone_typo_matches_by_reading(engine: FaqEngine) -> None:
    # 住民表 reads じゅうみんひょう like 住民票.
    assert top(engine, "住民表 取りたい") == "jumin-009"
    _, weights = engine.analyse_query("住民表", "ja")
    assert "p:みんひ" in weights


def test_typo_spans() -> None:
    spans = typo_spans("市営往宅に入りたい")
    assert "往宅" in spans  # unknown to the dictionary
    assert "市営往宅" in spans
    assert "市営" not in spans  # a known single word is no typo
    assert "税金" not in typo_spans("税金を払いたい")
    assert "婚因届" in typo_spans("婚因届")


@pytest.mark.parametrize(
    ("query", "corrected", "expected"),
    [
        ("市営往宅に入りたい", "w:市営住宅", "sumai-013"),
        ("婚因届", "w:婚姻届", "jumin-018"),
        ("在流カードなくした", "w:在留かーど", "gaikoku-004"),
    ],
)
def test_substitution_typos_are_corrected(
    engine: FaqEngine, query: str, corrected: str, expected: str
) -> None:
    _, weights = engine.analyse_query(query, "ja")
    assert weights[corrected] == pytest.approx(EngineConfig().typo_weight)
    assert top(engine, query) == expected


def test_known_words_are_not_corrected(engine: FaqEngine) -> None:
    _, weights = engine.analyse_query("市営住宅に入りたい", "ja")
    assert weights["w:市営住宅"] == pytest.approx(1.0)
    assert "w:市営住宅" in weights
    assert engine._corrections("市営住宅に入りたい") == {}


def test_typo_correction_can_be_switched_off() -> None:
    off = FaqEngine.build(
        CORPUS, None, dataclasses.replace(EngineConfig(), typo_weight=0.0), glossary=None
    )
    _, weights = off.analyse_query("婚因届", "ja")
    assert "w:婚姻届" not in weights


def test_other_languages_do_not_use_the_reading_field(engine: FaqEngine) -> None:
    _, weights = engine.analyse_query("my number card apply", "en")
    assert not any(term.startswith("p:") for term in weights)
    assert top(engine, "apply my number card") == "mynum-001"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x3000, max_codepoint=0x30FF), max_size=30))
def test_any_kana_never_raises(engine: FaqEngine, query: str) -> None:
    for faq_id, score in engine.search(query, "ja"):
        assert score > 0
        assert faq_id


def test_frequent_reading_ngrams_are_left_out_of_the_query() -> None:
    every = FaqEngine.build(
        CORPUS, None, dataclasses.replace(EngineConfig(), reading_max_df=1.0), glossary=None
    )
    _, weights = every.analyse_query("じゅうみんひょう とりたい", "ja")
    assert "p:じゆう" in weights
    none = FaqEngine.build(
        CORPUS,
        None,
        dataclasses.replace(EngineConfig(), reading_max_df=0.0, reading_min_df=0),
        glossary=None,
    )
    _, weights = none.analyse_query("じゅうみんひょう とりたい", "ja")
    assert not any(term.startswith("p:") for term in weights)
    assert any(term.startswith("r:") for term in weights)
