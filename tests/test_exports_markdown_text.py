"""Markdown text escaping: one line, runs of any whitespace as one space, specials escaped.

`markdown_inline` is written with `str.split` and `str.translate` for speed;
the rule it implements is the pair of regular expressions below, and it must
give the same text for every input (an export's bytes depend on it).
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from exports.writers import (
    EMPTY,
    _markdown_url,
    _markdown_urls,
    _single_spaced,
    markdown_inline,
    markdown_inline_each,
    markdown_paragraphs_each,
)

SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
WHITESPACE = re.compile(r"\s+")


def markdown_inline_by_the_rule(text: str) -> str:
    return SPECIAL.sub(r"\\\1", WHITESPACE.sub(" ", text).strip())


# Every kind of whitespace Python knows (ASCII, NEL, no-break, ideographic,
# the information separators) beside the specials and ordinary letters.
TRICKY = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2003\u2028\u2029\u202f\u3000\u200b"


@given(st.text(alphabet=st.sampled_from(TRICKY + "\\`*_[]<>|~#-=1.a漫")))
def test_escaping_follows_the_rule_on_whitespace_and_specials(text):
    assert markdown_inline(text) == markdown_inline_by_the_rule(text)


@given(st.text())
def test_escaping_follows_the_rule_on_any_text(text):
    assert markdown_inline(text) == markdown_inline_by_the_rule(text)


@given(st.lists(st.text(alphabet=st.sampled_from(TRICKY + "\\`*_[]<>|~#-=1.a漫")) | st.text()))
def test_a_column_escaped_at_once_is_each_text_escaped(texts):
    assert markdown_inline_each(texts) == [markdown_inline(text) for text in texts]


# Texts as columns mostly hold them: words between single spaces, now and then
# one with a stray space, a tab, a newline or a no-break space.
WORDS = st.lists(st.sampled_from(["Drama", "漫画", "a_b", "#1", "x", ""]), max_size=4)
SINGLE_SPACED = WORDS.map(" ".join)
STRAY = st.sampled_from([" ", "  ", "\t", "\n", "\xa0", "\u3000", "\x1c"])
NEARLY_SINGLE_SPACED = st.one_of(
    SINGLE_SPACED, st.tuples(SINGLE_SPACED, STRAY, SINGLE_SPACED).map("".join)
)


@given(st.lists(NEARLY_SINGLE_SPACED))
def test_single_spaced_is_normalising_changing_nothing(texts):
    assert _single_spaced(texts) == all(" ".join(text.split()) == text for text in texts)


@given(st.lists(NEARLY_SINGLE_SPACED))
def test_a_single_spaced_column_escaped_at_once_is_each_text_escaped(texts):
    assert markdown_inline_each(texts) == [markdown_inline_by_the_rule(text) for text in texts]


def test_escaping_examples():
    assert (
        markdown_inline("  Title |\n with <b>*bold*</b>  ")
        == "Title \\| with \\<b\\>\\*bold\\*\\</b\\>"
    )


BLOCK_START = re.compile(r"^(#|[-+=]|\d+[.)])")
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def markdown_paragraphs_one_by_one(text: str) -> str:
    """The paragraph rule for one text: split at blank lines, each made inline, starts escaped."""
    paragraphs = []
    for paragraph in PARAGRAPH_BREAK.split(text.strip()):
        line = markdown_inline(paragraph)
        if line:
            paragraphs.append(BLOCK_START.sub(r"\\\1", line))
    return "\n\n".join(paragraphs)


@given(st.lists(st.text(alphabet=st.sampled_from(TRICKY + "\\`*_[]<>|~#-=+1.)a漫")) | st.text()))
def test_paragraphs_escaped_a_column_at_a_time_follow_the_rule(texts):
    assert markdown_paragraphs_each(texts) == [markdown_paragraphs_one_by_one(t) for t in texts]


@given(st.lists(st.one_of(NEARLY_SINGLE_SPACED, st.sampled_from(["- a", "12) b", "=", "1.5"]))))
def test_one_paragraph_texts_escaped_a_column_at_a_time_follow_the_rule(texts):
    assert markdown_paragraphs_each(texts) == [markdown_paragraphs_one_by_one(t) for t in texts]


def test_paragraph_examples():
    assert markdown_paragraphs_each(["# Not a heading\n\n\n1. not a list *here*", "", "  \n "]) == [
        "\\# Not a heading\n\n\\1. not a list \\*here\\*",
        "",
        "",
    ]


URL_LIKE = st.text(alphabet=st.sampled_from("htps:/.example<> \t\u3000a1%")) | st.none()


@given(st.lists(URL_LIKE))
def test_a_url_column_checked_at_once_gives_each_urls_cell(urls):
    assert _markdown_urls(urls) == [_markdown_url(url) if url else EMPTY for url in urls]
