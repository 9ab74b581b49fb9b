"""Furigana: readings over kanji only, HTML structure untouched, idempotent over text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from cityhall.core.furigana import annotate_html, annotate_text

RUBY = re.compile(r"<rp>\(</rp><rt>[^<]*</rt><rp>\)</rp>|</?ruby>")


def strip_ruby(html: str) -> str:
    return RUBY.sub("", html)


def test_okurigana_stays_outside_the_ruby() -> None:
    assert annotate_text("行きます") == "<ruby>行<rp>(</rp><rt>い</rt><rp>)</rp></ruby>きます"
    out = annotate_text("伊賀市役所")
    assert "<rt>いが</rt>" in out and "しやくしょ" in out


def test_tags_attributes_and_skipped_elements_are_untouched() -> None:
    html = (
        '<title>市役所</title><a href="/住所" title="住所">住所</a>'
        "<script>const 漢字 = 1;</script><option>上野</option>"
        "<span data-no-furigana>日本語</span><textarea>本文</textarea>"
    )
    out = annotate_html(html)
    assert out.startswith("<title>市役所</title>")
    assert 'href="/住所" title="住所">' in out
    assert "<script>const 漢字 = 1;</script>" in out
    assert "<option>上野</option>" in out
    assert "<span data-no-furigana>日本語</span>" in out
    assert "<textarea>本文</textarea>" in out
    assert "<ruby>住所" in out


def test_entities_stay_escaped() -> None:
    assert "&lt;b&gt;" in annotate_html("<p>住所 &lt;b&gt; &amp;</p>")


@settings(max_examples=150, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list('伊賀市役所住民票申請のにをはがあいアイ123 。、&<>"')),
        max_size=40,
    )
)
def test_removing_ruby_gives_back_the_text(text: str) -> None:
    import html

    assert html.unescape(strip_ruby(annotate_text(text))) == text
