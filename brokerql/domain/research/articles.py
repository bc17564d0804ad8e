"""An article's content as a value (B1/B2) and the checks every new or revised article passes."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

from brokerql.domain.common import Rejection
from brokerql.domain.identity.tiers import ALL_ENTITLEMENTS
from brokerql.domain.research.columns import COLUMNS

MAX_TITLE = 200
MAX_SUMMARY = 2000
MAX_BODY = 200_000
MAX_SYMBOLS = 50
_SYMBOL = re.compile(r"^[0-9A-Z]{1,10}$")


@dataclass(frozen=True, slots=True)
class Attachment:
    """Metadata of a file attached to an article (the file itself lives elsewhere)."""

    name: str
    url: str
    size: int = 0
    mime: str = "application/pdf"


@dataclass(frozen=True, slots=True)
class ArticleContent:
    """Everything an editor or a feed writes about an article; status and counters live elsewhere."""

    title: str
    summary: str
    body: str
    column: str
    authors: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    entitlement: str | None = None  # None: the column's
    published_at: datetime | None = None  # a feed's own publication time, kept when imported

    def digest(self) -> str:
        """A fingerprint of the content: a re-import with the same digest changed nothing."""
        data = asdict(self)
        data["published_at"] = self.published_at.isoformat() if self.published_at else None
        return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


def normalise(content: ArticleContent) -> ArticleContent:
    """Trim text, upper-case and de-duplicate symbols, drop empty list entries (order kept)."""

    def clean(values: tuple[str, ...], upper: bool = False) -> tuple[str, ...]:
        out = [v.strip().upper() if upper else v.strip() for v in values]
        return tuple(dict.fromkeys(v for v in out if v))

    return ArticleContent(
        title=content.title.strip(),
        summary=content.summary.strip(),
        body=content.body.strip("\n"),
        column=content.column.strip(),
        authors=clean(content.authors),
        symbols=clean(content.symbols, upper=True),
        industries=clean(content.industries),
        tags=clean(content.tags),
        attachments=content.attachments,
        entitlement=(content.entitlement or "").strip() or None,
        published_at=content.published_at,
    )


def validate(content: ArticleContent) -> list[Rejection]:
    """Coded rejections for content that cannot be stored (empty title, unknown column ...)."""
    problems: list[Rejection] = []
    if not content.title:
        problems.append(Rejection("TITLE_REQUIRED", "An article needs a title.", "title"))
    elif len(content.title) > MAX_TITLE:
        problems.append(Rejection("TITLE_TOO_LONG", f"A title has at most {MAX_TITLE} characters.", "title"))
    if len(content.summary) > MAX_SUMMARY:
        problems.append(Rejection("SUMMARY_TOO_LONG", f"A summary has at most {MAX_SUMMARY} characters.", "summary"))
    if len(content.body) > MAX_BODY:
        problems.append(Rejection("BODY_TOO_LONG", f"A body has at most {MAX_BODY} characters.", "body"))
    if content.column not in COLUMNS:
        problems.append(Rejection("UNKNOWN_COLUMN", f"There is no column {content.column!r}.", "column"))
    if content.entitlement is not None and content.entitlement not in ALL_ENTITLEMENTS:
        problems.append(
            Rejection("UNKNOWN_ENTITLEMENT", f"There is no entitlement {content.entitlement!r}.", "entitlement")
        )
    bad = [s for s in content.symbols if not _SYMBOL.match(s)]
    if bad or len(content.symbols) > MAX_SYMBOLS:
        problems.append(Rejection("BAD_SYMBOL", f"Symbols must be codes such as 600000 (got {bad[:3]}).", "symbols"))
    for attachment in content.attachments:
        if not attachment.name or not attachment.url.startswith(("https://", "http://", "/")):
            problems.append(Rejection("BAD_ATTACHMENT", "An attachment needs a name and a URL.", "attachments"))
            break
    return problems


@dataclass(frozen=True, slots=True)
class ContentChange:
    """What a revision changed: the names of the fields, for the REVISED event."""

    fields: tuple[str, ...] = field(default_factory=tuple)


def changed_fields(before: ArticleContent, after: ArticleContent) -> ContentChange:
    """The fields that differ between two versions of an article's content."""
    names = [n for n in ArticleContent.__dataclass_fields__ if getattr(before, n) != getattr(after, n)]
    return ContentChange(tuple(names))
