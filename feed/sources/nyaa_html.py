"""Nyaa's HTML pages: a post's detail page and the listing/search result tables.

The pages are untrusted markup from the internet, so they are read with
selectolax (a real HTML5 parser, lexbor) and CSS selectors, never with
regexes over markup: attribute order, entities (`&#39;`, `&amp;`) and
nesting are the parser's problem, not ours. Regexes only run over text the
parser has already decoded (the markdown description, a size, an id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from feed.sources.nyaa import NyaaItem, parse_size

# Markdown descriptions and comments carry bare URLs and `[text](url)` links;
# a URL ends at whitespace or at the markdown/HTML punctuation around it.
_URL_RE = re.compile(r"https?://[^\s<>\"'()\[\]]+")
_POST_ID_RE = re.compile(r"/view/(\d+)$")
_INFO_HASH_RE = re.compile(r"urn:btih:([0-9a-fA-F]{40})")
_FILE_SIZE_RE = re.compile(r"^\((?P<size>[^()]*)\)$")
# File extensions worth calling a format; anything else (".txt", ".nfo", ".jpg")
# is a side file, not what the release is.
BOOK_FORMATS = frozenset({"cbz", "cbr", "cb7", "zip", "rar", "7z", "epub", "pdf", "mobi", "azw3"})


class PageError(ValueError):
    """The page is not the Nyaa page we expected (no title, no table where one must be)."""


@dataclass(frozen=True)
class NyaaFile:
    """One file in a torrent (folders are not files)."""

    name: str
    size_bytes: int | None

    def to_json(self) -> dict:
        return {"name": self.name, "size_bytes": self.size_bytes}


@dataclass(frozen=True)
class NyaaDetail:
    """What a post's detail page says beyond the RSS."""

    title: str
    files: list[NyaaFile]
    information_url: str
    description: str
    comment_links: list[str]
    comment_count: int
    info_hash: str
    torrent_url: str
    magnet: str
    size_bytes: int | None
    posted_at: datetime | None
    seeders: int | None
    leechers: int | None
    downloads: int | None
    trusted: bool
    category: str
    description_links: list[str] = field(default_factory=list)

    @property
    def formats(self) -> list[str]:
        """The book formats among the files, sorted: ["cbz"], ["epub"], ["rar", "zip"]."""
        suffixes = {PurePosixPath(file.name).suffix.lower().lstrip(".") for file in self.files}
        return sorted(suffixes & BOOK_FORMATS)


@dataclass(frozen=True)
class ListingPage:
    """The rows of a listing or search page, and whether an older page follows."""

    items: list[NyaaItem]
    skipped: list[str]
    has_next: bool


def parse_detail(html: str | bytes, *, page_url: str) -> NyaaDetail:
    """Read a `/view/<id>` page; raise `PageError` when it is not one."""
    tree = LexborHTMLParser(_text_of(html))
    panel = tree.css_first("div.container > div.panel")
    heading = panel.css_first("h3.panel-title") if panel else None
    if panel is None or heading is None:
        raise PageError("no torrent panel: not a Nyaa detail page")
    rows = _labelled_cells(panel)
    information = rows.get("Information:")
    info_link = information.css_first("a") if information else None
    description_node = tree.css_first("#torrent-description")
    description = description_node.text(deep=True) if description_node else ""
    comments = tree.css("#comments .comment-content")
    footer_links = [a.attributes.get("href") or "" for a in panel.css(".panel-footer a")]
    magnet = next((href for href in footer_links if href.startswith("magnet:")), "")
    torrent = next((href for href in footer_links if "/download/" in href), "")
    category_links = rows["Category:"].css("a") if "Category:" in rows else []
    return NyaaDetail(
        title=heading.text(deep=True).strip(),
        files=_files(tree),
        information_url=(info_link.attributes.get("href") or "").strip() if info_link else "",
        description=description,
        description_links=_URL_RE.findall(description),
        comment_links=[url for node in comments for url in _URL_RE.findall(node.text(deep=True))],
        comment_count=len(comments),
        info_hash=_cell_text(rows.get("Info hash:")).lower(),
        torrent_url=urljoin(page_url, torrent) if torrent else "",
        magnet=magnet,
        size_bytes=_size_or_none(_cell_text(rows.get("File size:"))),
        posted_at=_timestamp(rows.get("Date:")),
        seeders=_count_or_none(_cell_text(rows.get("Seeders:"))),
        leechers=_count_or_none(_cell_text(rows.get("Leechers:"))),
        downloads=_count_or_none(_cell_text(rows.get("Completed:"))),
        trusted="panel-success" in _classes(panel),
        category=" - ".join(a.text(deep=True).strip() for a in category_links),
    )


def parse_listing(html: str | bytes, *, page_url: str) -> ListingPage:
    """Read a listing or search page's table; an empty search is zero rows, not an error."""
    tree = LexborHTMLParser(_text_of(html))
    table = tree.css_first("table.torrent-list")
    if table is None:
        if tree.css_first("title") is None or "Nyaa" not in tree.css_first("title").text():
            raise PageError("no torrent table and not a Nyaa page")
        return ListingPage(items=[], skipped=[], has_next=False)
    items: list[NyaaItem] = []
    skipped: list[str] = []
    for position, row in enumerate(table.css("tbody > tr"), start=1):
        try:
            items.append(_listing_row(row, page_url))
        except (PageError, ValueError) as exc:
            skipped.append(f"row {position}: {exc}")
    return ListingPage(
        items=items,
        skipped=skipped,
        has_next=tree.css_first('ul.pagination a[rel="next"]') is not None,
    )


def _listing_row(row: LexborNode, page_url: str) -> NyaaItem:
    cells = row.css("td")
    if len(cells) < 8:
        raise PageError(f"{len(cells)} cells, expected 8")
    # The comments anchor ("a.comments") comes before the title anchor in some rows.
    title_link = next(
        (a for a in cells[1].css("a") if "comments" not in _classes(a)),
        None,
    )
    href = (title_link.attributes.get("href") or "") if title_link else ""
    match = _POST_ID_RE.search(urlsplit(href).path)
    if title_link is None or not match:
        raise PageError("no /view/<id> link")
    title = (title_link.attributes.get("title") or title_link.text(deep=True)).strip()
    links = [a.attributes.get("href") or "" for a in cells[2].css("a")]
    magnet = next((link for link in links if link.startswith("magnet:")), "")
    torrent = next((link for link in links if "/download/" in link), "")
    hash_match = _INFO_HASH_RE.search(magnet)
    category_link = cells[0].css_first("a")
    classes = _classes(row)
    return NyaaItem(
        title=title,
        post_url=urljoin(page_url, href),
        torrent_url=urljoin(page_url, torrent) if torrent else "",
        external_id=match.group(1),
        posted_at=_timestamp(cells[4]),
        info_hash=hash_match.group(1).lower() if hash_match else "",
        size_bytes=_size_or_none(cells[3].text(deep=True).strip()),
        category=(category_link.attributes.get("title") or "") if category_link else "",
        description="",
        seeders=_count_or_none(cells[5].text(deep=True).strip()),
        leechers=_count_or_none(cells[6].text(deep=True).strip()),
        downloads=_count_or_none(cells[7].text(deep=True).strip()),
        trusted="success" in classes,
        remake="danger" in classes,
    )


def _files(tree: LexborHTMLParser) -> list[NyaaFile]:
    """Leaf files of the file list; folder rows (`a.folder` + nested `ul`) are skipped."""
    files: list[NyaaFile] = []
    for item in tree.css(".torrent-file-list li"):
        if any("folder" in _classes(link) for link in _children(item, "a")):
            continue
        size_node = next(
            (span for span in _children(item, "span") if "file-size" in _classes(span)), None
        )
        size_text = size_node.text(deep=True).strip() if size_node else ""
        # The name is the item's own text, between the file icon and the size.
        name = "".join(
            child.text(deep=False) for child in item.iter(include_text=True) if child.tag == "-text"
        ).strip()
        size_match = _FILE_SIZE_RE.match(size_text)
        files.append(
            NyaaFile(
                name=name,
                size_bytes=_size_or_none(size_match.group("size")) if size_match else None,
            )
        )
    return files


def _labelled_cells(panel: LexborNode) -> dict[str, LexborNode]:
    """`{"Seeders:": <the cell after it>, ...}` from the panel's label/value grid."""
    cells: dict[str, LexborNode] = {}
    for row in panel.css(".panel-body > .row"):
        columns = _children(row, "div")
        for label, value in zip(columns[::2], columns[1::2], strict=False):
            cells[label.text(deep=True).strip()] = value
    return cells


def _children(node: LexborNode, tag: str) -> list[LexborNode]:
    """Direct children with this tag (lexbor's selectors have no `:scope >`)."""
    return [child for child in node.iter() if child.tag == tag]


def _classes(node: LexborNode) -> list[str]:
    return (node.attributes.get("class") or "").split()


def _cell_text(node: LexborNode | None) -> str:
    return node.text(deep=True).strip() if node is not None else ""


def _timestamp(node: LexborNode | None) -> datetime | None:
    raw = (node.attributes.get("data-timestamp") or "") if node is not None else ""
    try:
        return datetime.fromtimestamp(float(raw), tz=UTC) if raw else None
    except (ValueError, OverflowError):
        return None


def _count_or_none(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


def _size_or_none(text: str) -> int | None:
    try:
        return parse_size(text) if text else None
    except ValueError:
        return None


def _text_of(html: str | bytes) -> str:
    return html.decode("utf-8", errors="replace") if isinstance(html, bytes) else html
