"""The analyzer and the synonym dictionary of the FAQ search."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cityhall.inquiries.search.analysis import (
    analyze,
    detect_language,
    japanese_ngrams,
    terms,
)
from cityhall.inquiries.search.synonyms import Synonyms

SYNONYMS = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "cityhall"
    / "inquiries"
    / "search"
    / "data"
    / "synonyms.txt"
)


def words(text: str) -> list[str]:
    return [term for kind, term in analyze(text, "ja") if kind == "w"]


def test_katakana_hiragana_and_half_width_fold_to_the_same_word() -> None:
    assert words("ゴミ") == words("ごみ") == words("ｺﾞﾐ") == ["ごみ"]


def test_particles_and_question_fillers_are_dropped() -> None:
    assert words("住民票の写しを教えてください") == ["住民票", "写し"]


def test_compounds_are_split_and_read_in_hiragana() -> None:
    pairs = analyze("国民健康保険", "ja")
    assert ("w", "国民健康保険") in pairs
    assert {("s", "国民"), ("s", "健康"), ("s", "保険")} <= set(pairs)
    assert ("y", "こくみんけんこうほけん") in pairs


def test_reading_ngrams_meet_kana_spelling() -> None:
    assert set(japanese_ngrams("じゅうみんひょう")[1]) <= set(japanese_ngrams("住民票")[1])
    assert "たい" not in japanese_ngrams("取りたい")[1]


def test_terms_interface_for_the_classifier() -> None:
    assert {"粗大", "ごみ", "出す"} <= set(terms("粗大ごみを出したい"))
    assert terms("How do I get my residence certificates?") == ["residence", "certificate"]
    assert terms("") == []


def test_language_detection() -> None:
    assert detect_language("ごみの日") == "ja"
    assert detect_language("住民票") == "ja"
    assert detect_language("住民票", "zh-hans") == "zh"
    assert detect_language("Tôi muốn đăng ký") == "vi"
    assert detect_language("como faço para pagar o imposto") == "pt"
    assert detect_language("dónde está la oficina") == "es"
    assert detect_language("where is the office") == "en"
    assert detect_language("garbage", "pt-br") == "pt"


def test_vietnamese_keeps_tones_and_adds_a_stripped_form() -> None:
    pairs = analyze("thuế", "vi")
    assert ("w", "thuế") in pairs and ("v", "thue") in pairs


def test_latin_light_stemming() -> None:
    assert analyze("certificates", "en") == analyze("certificate", "en")
    assert analyze("impostos", "pt") == analyze("imposto", "pt")


def test_synonym_dictionary_expands_with_the_control_flag() -> None:
    text = "\n".join(
        [
            "000002,1,0,1,0,0,0,(),宛て先,,",
            "000002,1,0,1,0,0,2,(),宛先,,",
            "000002,1,0,3,0,0,0,(),送付先,,",
            "000002,1,1,4,0,0,0,(),届け先,,",
            "000002,1,2,5,0,0,0,(),消えた語,,",
            "",
        ]
    )
    synonyms = Synonyms.parse(text)
    assert synonyms.expand("宛先") == ["宛て先", "送付先", "届け先"]
    assert synonyms.expand("届け先") == []  # flag 1: never triggers
    assert "消えた語" not in synonyms.expand("送付先")  # flag 2: never used


def test_shipped_synonym_dictionary_loads() -> None:
    synonyms = Synonyms.load(SYNONYMS)
    assert len(synonyms) > 10_000
    assert "送付先" in synonyms.expand("宛先")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_analysis_never_raises(text: str) -> None:
    for lang in ("ja", "zh", "en", "pt", "es", "vi"):
        assert isinstance(analyze(text, lang), list)
    assert isinstance(terms(text), list)
    assert detect_language(text) in {"ja", "zh", "en", "pt", "es", "vi"}
