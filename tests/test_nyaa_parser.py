"""Parsing Nyaa RSS: the real sample, sizes, dates, bad items and hostile documents."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest

from feed.sources.nyaa import FeedError, parse_feed, parse_size

HEADER = (
    '<rss xmlns:nyaa="https://nyaa.si/xmlns/nyaa" version="2.0"><channel>'
    "<title>Nyaa - Home - Torrent File RSS</title>"
)
FOOTER = "</channel></rss>"


def item(
    *,
    title: str = "[Doki] New Game! - Chapter 102 [EB7820CE].zip",
    guid: str = "https://nyaa.si/view/1234567",
    pub_date: str = "Mon, 18 May 2026 23:34:56 -0000",
    info_hash: str = "3CCE2A1B1DD491BE89A5A2461250B1F7EE6700C7",
    size: str = "11.6 MiB",
) -> str:
    return (
        f"<item><title>{title}</title>"
        f"<link>https://nyaa.si/download/1234567.torrent</link>"
        f'<guid isPermaLink="true">{guid}</guid>'
        f"<pubDate>{pub_date}</pubDate>"
        f"<nyaa:infoHash>{info_hash}</nyaa:infoHash>"
        f"<nyaa:category>Literature - English-translated</nyaa:category>"
        f"<nyaa:size>{size}</nyaa:size>"
        f"<description><![CDATA[<a href='{guid}'>#1234567</a>]]></description></item>"
    )


def document(*items: str) -> bytes:
    return (HEADER + "".join(items) + FOOTER).encode()


def test_every_item_of_the_real_sample_parses(nyaa_sample):
    parsed = parse_feed(nyaa_sample)

    assert len(parsed.items) == 75
    assert parsed.skipped == []
    assert len({entry.external_id for entry in parsed.items}) == 75


def test_the_first_sample_item_is_read_field_by_field(nyaa_sample):
    first = parse_feed(nyaa_sample).items[0]

    assert first.title == (
        "ReZero - Starting Life in Another World - Volume 01 [MTBBooks] | "
        "Re:Zero Kara Hajimeru Isekai Seikatsu | Re Zero"
    )
    assert first.external_id == "2111533"
    assert first.post_url == "https://nyaa.si/view/2111533"
    assert first.torrent_url == "https://nyaa.si/download/2111533.torrent"
    assert first.posted_at == datetime(2026, 5, 18, 23, 34, 56, tzinfo=UTC)
    assert first.info_hash == "3cce2a1b1dd491be89a5a2461250b1f7ee6700c7"
    assert first.size_bytes == 12_163_481  # 11.6 × 1024², truncated as the reference README says
    assert first.category == "Literature - English-translated"
    assert first.description.startswith('<a href="https://nyaa.si/view/2111533">#2111533 |')
    assert first.magnet == (
        "magnet:?xt=urn:btih:3cce2a1b1dd491be89a5a2461250b1f7ee6700c7"
        "&dn=ReZero%20-%20Starting%20Life%20in%20Another%20World%20-%20Volume%2001%20"
        "%5BMTBBooks%5D%20%7C%20Re%3AZero%20Kara%20Hajimeru%20Isekai%20Seikatsu%20%7C%20Re%20Zero"
    )


@pytest.mark.parametrize(
    ("position", "title", "external_id", "posted_at", "info_hash", "size_bytes"),
    [
        (
            3,
            "Summertime Rendering 2026 - The Room that Dreams of Murder - c001-002 (OneShot) "
            "(web) [MANGA Plus].zip",
            "1584561",
            datetime(2022, 9, 30, 4, 36, 56, tzinfo=UTC),
            "cf90b1731e3be18f4300737c3a111ac3d860434c",
            int(96.3 * 1024**2),
        ),
        (
            9,
            "[Doki] Hitoribocchi no OO Seikatsu - Chapter 90 [C0045813].zip",
            "1324740",
            datetime(2021, 1, 8, 19, 53, 13, tzinfo=UTC),
            "04dc498981d25fe2888e42d2657fff7b41206125",
            int(3.5 * 1024**2),
        ),
        (
            74,
            "[Doki] Isyuzoku Joshi ni OO Suru Hanashi - Chapter 04 [300E4904].zip",
            "1181628",
            datetime(2019, 10, 5, 21, 54, 5, tzinfo=UTC),
            "12dd7ec06b3bafe117a1b08f071a4cd03eacdc81",
            int(2.6 * 1024**2),
        ),
    ],
)
def test_sample_items_carry_their_exact_fields(
    nyaa_sample, position, title, external_id, posted_at, info_hash, size_bytes
):
    entry = parse_feed(nyaa_sample).items[position]

    assert (entry.title, entry.external_id, entry.posted_at) == (title, external_id, posted_at)
    assert (entry.info_hash, entry.size_bytes) == (info_hash, size_bytes)
    assert entry.magnet.startswith(f"magnet:?xt=urn:btih:{info_hash}&dn=")


def test_gibibyte_sizes_in_the_sample_are_binary(nyaa_sample):
    pack = next(e for e in parse_feed(nyaa_sample).items if e.external_id == "1505969")

    assert pack.title == "[TSP] Tsundere Service Providers - Torrent Super Pack"
    assert pack.size_bytes == int(5.7 * 1024**3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11.6 MiB", 12_163_481),  # truncated, as Nyaa's byte counts are
        ("1.2 GB", 1_200_000_000),
        ("512 KiB", 524_288),
        ("800 Bytes", 800),
        ("1 TiB", 1024**4),
        ("2.5 kB", 2500),
        ("3 MB", 3_000_000),
        ("1.6 GiB", int(1.6 * 1024**3)),
        ("  7 B ", 7),
    ],
)
def test_sizes_read_binary_and_decimal_units(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "MiB", "12 parsecs", "-1 MiB", "1,5 MiB", "11.6MiB extra"])
def test_text_that_is_not_a_size_is_refused(text):
    with pytest.raises(ValueError, match="is not a size"):
        parse_size(text)


def test_dates_keep_their_offset_and_minus_zero_means_utc():
    parsed = parse_feed(
        document(
            item(guid="https://nyaa.si/view/1", pub_date="Mon, 18 May 2026 23:34:56 +0200"),
            item(guid="https://nyaa.si/view/2", pub_date="Mon, 18 May 2026 23:34:56 -0000"),
        )
    )

    offset, utc = parsed.items
    assert offset.posted_at == datetime(
        2026, 5, 18, 23, 34, 56, tzinfo=timezone(timedelta(hours=2))
    )
    assert utc.posted_at == datetime(2026, 5, 18, 23, 34, 56, tzinfo=UTC)


def test_the_info_hash_is_lower_cased():
    (entry,) = parse_feed(document(item())).items

    assert entry.info_hash == "3cce2a1b1dd491be89a5a2461250b1f7ee6700c7"


def test_malformed_items_are_skipped_with_a_warning_and_the_rest_kept(caplog):
    good = item(guid="https://nyaa.si/view/100")
    no_id = item(guid="https://nyaa.si/view/not-a-number", title="No id here")
    bad_date = item(guid="https://nyaa.si/view/101", pub_date="yesterday-ish")
    bad_hash = item(guid="https://nyaa.si/view/102", info_hash="xyz")
    bad_size = item(guid="https://nyaa.si/view/103", size="huge")
    no_title = item(guid="https://nyaa.si/view/104", title="")

    with caplog.at_level(logging.WARNING, logger="feed.sources.nyaa"):
        parsed = parse_feed(document(good, no_id, bad_date, bad_hash, bad_size, no_title))

    assert [entry.external_id for entry in parsed.items] == ["100"]
    assert len(parsed.skipped) == 5
    assert parsed.skipped[0].startswith("item 2: <guid>")
    assert "item 3: <pubDate> 'yesterday-ish'" in parsed.skipped[1]
    assert "item 4: <nyaa:infoHash> 'xyz'" in parsed.skipped[2]
    assert "item 5: <nyaa:size> 'huge'" in parsed.skipped[3]
    assert parsed.skipped[4] == "item 6: no <title>"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 5
    assert all(message.startswith("Skipping malformed Nyaa item") for message in warnings)


def test_optional_fields_may_be_missing():
    minimal = b"""<rss version="2.0"><channel><item>
        <title>Some Series v01</title><guid>https://nyaa.si/view/42</guid>
    </item></channel></rss>"""

    (entry,) = parse_feed(minimal).items

    assert entry.external_id == "42"
    assert (entry.posted_at, entry.size_bytes, entry.info_hash, entry.magnet) == (
        None,
        None,
        "",
        "",
    )


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"<rss><channel><item><title>cut off", "not well-formed XML"),
        (b"this is not xml at all", "not well-formed XML"),
        (b"", "not well-formed XML"),
        (b"<html><body>Cloudflare says hi</body></html>", "not an RSS document"),
        (b'<rss version="2.0"></rss>', "not an RSS document"),
    ],
)
def test_a_malformed_document_raises_feed_error(xml, message):
    with pytest.raises(FeedError, match=message):
        parse_feed(xml)


def test_an_entity_expansion_bomb_is_refused():
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<rss version="2.0"><channel><item><title>&lol9;</title>
<guid>https://nyaa.si/view/1</guid></item></channel></rss>"""

    with pytest.raises(FeedError, match="refused unsafe XML"):
        parse_feed(bomb)


def test_an_external_entity_is_never_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    xxe = f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY leak SYSTEM "file://{secret}">]>
<rss version="2.0"><channel><item><title>&leak;</title>
<guid>https://nyaa.si/view/1</guid></item></channel></rss>""".encode()

    with pytest.raises(FeedError, match="refused unsafe XML") as raised:
        parse_feed(xxe)
    assert "TOP-SECRET-CONTENT" not in str(raised.value)
