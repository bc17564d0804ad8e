"""B1: feeds turned into articles. Four formats, each parsed into typed items (source, item id,
revision, content) plus per-line errors: a malformed line or item is reported and skipped, never fatal.

- `vendor`: the data vendor's CSV text feed (header row, `|`-separated lists, quoted multi-line bodies);
- `json`: a JSON array of article objects;
- `markdown`: one article, YAML front matter between `---` lines, then the Markdown body;
- `announcements`: exchange announcements, JSON Lines, SSE-style or SZSE-style field names.

Sample files live in brokerql/research_samples/ and the formats are documented in docs/api.md.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from brokerql.domain.research.articles import ArticleContent, Attachment, normalise, validate

CHINA = ZoneInfo("Asia/Shanghai")  # a feed time without an offset is Beijing time
VENDOR_COLUMNS = (
    "item_id", "revision", "column", "published_at", "title", "summary", "symbols", "industries", "tags",
    "authors", "entitlement", "body",
)  # fmt: skip


class FeedFormat(StrEnum):
    VENDOR = "vendor"
    JSON = "json"
    MARKDOWN = "markdown"
    ANNOUNCEMENTS = "announcements"


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One article of a feed: where it comes from (source, item id, revision), where it starts, what it says."""

    source: str
    item_id: str
    revision: str
    line: int
    content: ArticleContent


@dataclass(frozen=True, slots=True)
class FeedError:
    """A line or item that could not be read, with the reason."""

    line: int
    message: str


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    items: tuple[FeedItem, ...] = ()
    errors: tuple[FeedError, ...] = field(default_factory=tuple)


class BadItem(ValueError):
    """Raised by the field readers below; becomes a FeedError for that line."""


def parse_feed(fmt: FeedFormat | str, text: str, default_source: str | None = None) -> ParsedFeed:
    """Parse `text` in `fmt`; items that fail the article checks become errors too."""
    fmt = FeedFormat(fmt)
    source = default_source or fmt.value
    raw = _PARSERS[fmt](text, source)
    items: list[FeedItem] = []
    errors: list[FeedError] = []
    for entry in raw:
        if isinstance(entry, FeedError):
            errors.append(entry)
            continue
        problems = validate(entry.content)
        if problems:
            errors.append(FeedError(entry.line, "; ".join(p.message for p in problems)))
        else:
            items.append(entry)
    return ParsedFeed(tuple(items), tuple(errors))


# -- field readers ---------------------------------------------------------------------------------------
def parse_time(value: Any) -> datetime | None:
    """ISO 8601 with an offset; without one (or a bare date) it is Beijing time."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise BadItem(f"bad time {value!r}") from exc
    return (moment.replace(tzinfo=CHINA) if moment.tzinfo is None else moment).astimezone(UTC)


def _list(value: Any) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        return tuple(v for v in value.split("|"))
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    raise BadItem(f"expected a list, got {value!r}")


def _text(record: dict[str, Any], key: str, required: bool = False) -> str:
    value = record.get(key)
    if value is None or value == "":
        if required:
            raise BadItem(f"missing {key}")
        return ""
    if not isinstance(value, str | int | float):
        raise BadItem(f"{key} must be text")
    return str(value)


def _attachments(value: Any) -> tuple[Attachment, ...]:
    if not value:
        return ()
    if not isinstance(value, list):
        raise BadItem("attachments must be a list")
    try:
        return tuple(
            Attachment(str(a["name"]), str(a["url"]), int(a.get("size", 0)), str(a.get("mime", "application/pdf")))
            for a in value
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadItem("each attachment needs name and url") from exc


def _item(record: dict[str, Any], source: str, line: int, column: str | None = None) -> FeedItem:
    """An item from the common field names (vendor CSV, JSON and Markdown front matter share them)."""
    body = _text(record, "body")
    content = ArticleContent(
        title=_text(record, "title", required=True),
        summary=_text(record, "summary") or _first_paragraph(body),
        body=body,
        column=column or _text(record, "column", required=True),
        authors=_list(record.get("authors")),
        symbols=_list(record.get("symbols")),
        industries=_list(record.get("industries")),
        tags=_list(record.get("tags")),
        attachments=_attachments(record.get("attachments")),
        entitlement=_text(record, "entitlement") or None,
        published_at=parse_time(record.get("published_at", record.get("publishedAt"))),
    )
    item_id = _text(record, "item_id") or _text(record, "id", required=True)
    return FeedItem(_text(record, "source") or source, item_id, _text(record, "revision"), line, normalise(content))


def _first_paragraph(body: str, limit: int = 140) -> str:
    for block in body.split("\n\n"):
        text = " ".join(line.lstrip("#> ").strip() for line in block.splitlines()).strip()
        if text:
            return text[:limit]
    return ""


def _guarded(line: int, make: Callable[[], FeedItem]) -> FeedItem | FeedError:
    try:
        return make()
    except BadItem as exc:
        return FeedError(line, str(exc))


# -- the four formats ------------------------------------------------------------------------------------
def _vendor(text: str, source: str) -> Iterator[FeedItem | FeedError]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error):
        yield FeedError(1, "empty file: the first line must be the header")
        return
    missing = [c for c in ("item_id", "column", "title") if c not in header]
    if missing:
        yield FeedError(1, f"header lacks {', '.join(missing)}")
        return
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield FeedError(line, f"unreadable CSV: {exc}")
            return
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield FeedError(line, f"expected {len(header)} fields, got {len(row)}")
            continue
        record = dict(zip(header, row, strict=True))
        record["body"] = record.get("body", "").replace("\\n", "\n")
        yield _guarded(line, lambda record=record, line=line: _item(record, source, line))


def _json(text: str, source: str) -> Iterator[FeedItem | FeedError]:
    decoder = json.JSONDecoder()
    position = _skip(text, 0)
    if text[position : position + 1] != "[":
        yield FeedError(_line(text, position), "a JSON feed is an array of article objects")
        return
    position = _skip(text, position + 1)
    while position < len(text) and text[position] != "]":
        line = _line(text, position)
        try:
            record, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            yield FeedError(exc.lineno, f"invalid JSON: {exc.msg}; the rest of the file is skipped")
            return
        if isinstance(record, dict):
            yield _guarded(line, lambda record=record, line=line: _item(record, source, line))
        else:
            yield FeedError(line, "each item must be an object")
        position = _skip(text, position)
        if text[position : position + 1] == ",":
            position = _skip(text, position + 1)


def _markdown(text: str, source: str) -> Iterator[FeedItem | FeedError]:
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        yield FeedError(1, "a Markdown article starts with front matter between two --- lines")
        return
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        yield FeedError(1, "the front matter is not closed by a --- line")
        return
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        yield FeedError((mark.line + 2) if mark else 1, f"bad front matter: {getattr(exc, 'problem', exc)}")
        return
    if not isinstance(meta, dict):
        yield FeedError(2, "the front matter must be key: value lines")
        return
    record = {**meta, "body": "\n".join(lines[end + 1 :]).strip("\n")}
    yield _guarded(1, lambda: _item(record, source, 1))


def _announcement(record: dict[str, Any], line: int) -> FeedItem:
    sse = "SECURITY_CODE" in record
    code = _text(record, "SECURITY_CODE" if sse else "secCode", required=True)
    name = _text(record, "SECURITY_NAME" if sse else "secName")
    title = _text(record, "TITLE" if sse else "title", required=True)
    url = _text(record, "URL" if sse else "attachPath")
    kind = _text(record, "BULLETIN_TYPE" if sse else "category")
    when = parse_time(record.get("SSEDATE" if sse else "publishTime"))
    item_id = _text(record, "BULLETIN_ID" if sse else "id") or f"{code}-{title}"
    summary = f"{name}（{code}）{kind}：{title}" if kind else f"{name}（{code}）：{title}"
    body = f"# {title}\n\n{summary}\n\n" + (f"[公告原文 / Full text]({url})" if url else "")
    attachments = (Attachment(f"{title}.pdf", url),) if url else ()
    content = ArticleContent(
        title=title, summary=summary, body=body, column="announcements", symbols=(code,),
        tags=(kind,) if kind else (), attachments=attachments, published_at=when,
    )  # fmt: skip
    return FeedItem("SSE" if sse else "SZSE", item_id, "", line, normalise(content))


def _announcements(text: str, _source: str) -> Iterator[FeedItem | FeedError]:
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield FeedError(number, f"invalid JSON: {exc.msg}")
            continue
        if not isinstance(record, dict):
            yield FeedError(number, "each line must be a JSON object")
            continue
        yield _guarded(number, lambda record=record, number=number: _announcement(record, number))


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n\ufeff":
        position += 1
    return position


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


_PARSERS: dict[FeedFormat, Callable[[str, str], Iterator[FeedItem | FeedError]]] = {
    FeedFormat.VENDOR: _vendor,
    FeedFormat.JSON: _json,
    FeedFormat.MARKDOWN: _markdown,
    FeedFormat.ANNOUNCEMENTS: _announcements,
}
