"""Writers' shortcuts to a value's text give the text of the rule they stand for.

`exports.writers` makes each row's object from per-value JSON text (no dict
or encoder call per row); for every kind and any value a column can hold,
that text must be the encoder's own for the kind's `_JSON_FORMS` value.
"""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from exports.fields import ValueKind
from exports.writers import (
    _JSON_FORMS,
    EMPTY,
    _csv_number,
    _csv_spans,
    _markdown_spans,
    json_text,
)
from feed.spans import plain_number
from tsundoku.templatetags.tsundoku_tags import format_number, format_numbers, format_spans

ENCODER = json.JSONEncoder(ensure_ascii=False)

numbers = st.integers() | st.floats()  # NaN and infinities included
texts = st.text()
spans = st.lists(st.tuples(numbers, numbers))
values_by_kind = {
    ValueKind.TEXT: texts | st.integers(),
    ValueKind.URL: texts,
    ValueKind.INTEGER: st.integers() | st.booleans() | st.floats(),
    ValueKind.NUMBER: numbers,
    ValueKind.BOOLEAN: st.booleans(),
    ValueKind.TEXT_LIST: st.lists(texts) | st.lists(texts).map(tuple),
    ValueKind.SPANS: spans,
}


def _expected(kind: ValueKind, value) -> str:
    form = _JSON_FORMS.get(kind)
    return ENCODER.encode(value if form is None else form(value))


@given(
    st.sampled_from(sorted(values_by_kind, key=lambda kind: kind.value)).flatmap(
        lambda kind: st.tuples(st.just(kind), values_by_kind[kind])
    )
)
def test_each_kinds_text_is_the_encoders(kind_and_value):
    kind, value = kind_and_value
    assert json_text(kind)(value) == _expected(kind, value)


def test_whole_floats_print_as_integers_and_fractions_stay():
    assert json_text(ValueKind.NUMBER)(12.0) == "12"
    assert json_text(ValueKind.NUMBER)(10.5) == "10.5"
    assert json_text(ValueKind.NUMBER)(float("nan")) == "NaN"
    assert json_text(ValueKind.TEXT)("") == "null"
    assert json_text(ValueKind.TEXT)('say "hi" ✓') == '"say \\"hi\\" ✓"'


@given(st.integers() | st.floats())
def test_a_csv_number_is_the_plain_numbers_text(value):
    assert _csv_number(value) == str(plain_number(value))


@given(st.lists(numbers | st.none() | st.just("") | st.sampled_from(["7", "2.50", "x"])))
def test_numbers_formatted_at_once_are_each_formatted(values):
    try:
        expected = [format_number(value) for value in values]
    except ValueError:  # text that is no number fails the rule, and the shortcut, alike
        return
    assert format_numbers(values) == expected


def _csv_spans_one_by_one(spans) -> str:
    """The CSV rule: "1-5; 7" (the format's own dash and separator)."""
    texts = []
    for start, end in spans:
        first, last = format_number(start), format_number(end)
        texts.append(first if first == last else f"{first}-{last}")
    return "; ".join(texts)


@given(st.lists(spans | st.none()))
def test_span_columns_give_each_values_cell(values):
    assert _csv_spans(values) == [
        None if value is None else _csv_spans_one_by_one(value) for value in values
    ]
    assert _markdown_spans(values) == [format_spans(value) if value else EMPTY for value in values]
