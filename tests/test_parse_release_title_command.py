"""`manage.py parse_release_title` prints the spans of a title as exact JSON."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


def parse(*args: str) -> str:
    out = StringIO()
    call_command("parse_release_title", *args, stdout=out)
    return out.getvalue().strip()


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Some Series v01-05 (Digital).cbz", '{"volumes": [[1, 5]], "chapters": []}'),
        ("Series chapter 10.5", '{"volumes": [], "chapters": [[10.5, 10.5]]}'),
        ("Series v01-03 c001-050", '{"volumes": [[1, 3]], "chapters": [[1, 50]]}'),
        ("Berserk (2016) Deluxe", '{"volumes": [], "chapters": []}'),
        (
            "[Doki] Hitoribocchi no OO Seikatsu - Chapter 90 [C0045813].zip",
            '{"volumes": [], "chapters": [[90, 90]]}',
        ),
        (
            "One Piece v001-111 + 1134-1176 (2003-2026)",
            '{"volumes": [[1, 111]], "chapters": [[1134, 1176]]}',
        ),
    ],
)
def test_the_spec_examples_print_exactly(title, expected):
    assert parse(title) == expected


def test_file_names_add_their_spans():
    output = parse(
        "Some Series (Digital)", "--file", "Some Series v01.cbz", "--file", "Some Series v03.cbz"
    )

    assert output == '{"volumes": [[1, 1], [3, 3]], "chapters": []}'
