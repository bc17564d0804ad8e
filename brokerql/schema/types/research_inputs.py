"""Inputs of the information platform's operator mutations."""

from __future__ import annotations

import strawberry

from brokerql.domain.research import feeds
from brokerql.domain.research.articles import ArticleContent, Attachment

FeedFormat = strawberry.enum(
    feeds.FeedFormat, description="A feed file's format: vendor (CSV), json, markdown or announcements (JSON Lines)."
)


@strawberry.input(description="Metadata of an attached file.")
class AttachmentInput:
    name: str = strawberry.field(description="File name.")
    url: str = strawberry.field(description="Where it is served (https://... or a /path).")
    size: int = strawberry.field(default=0, description="Size in bytes.")
    mime: str = strawberry.field(default="application/pdf", description="Media type.")


@strawberry.input(description="A new article (or a revision of one): it starts as a DRAFT.")
class CreateArticleInput:
    title: str = strawberry.field(description="Title, at most 200 characters.")
    body: str = strawberry.field(description="The body, in Markdown.")
    column: str = strawberry.field(description="Column code, e.g. research.stocks (see articleColumns).")
    summary: str = strawberry.field(default="", description="Summary shown to every reader.")
    symbols: list[str] = strawberry.field(default_factory=list, description="Instrument codes it is about.")
    entitlement: str | None = strawberry.field(
        default=None, description="Entitlement key needed to read the body; default: the column's."
    )
    authors: list[str] = strawberry.field(default_factory=list, description="Authors.")
    industries: list[str] = strawberry.field(default_factory=list, description="Industries.")
    tags: list[str] = strawberry.field(default_factory=list, description="Tags.")
    attachments: list[AttachmentInput] = strawberry.field(default_factory=list, description="Attached files.")

    def content(self) -> ArticleContent:
        return ArticleContent(
            title=self.title, summary=self.summary, body=self.body, column=self.column, authors=tuple(self.authors),
            symbols=tuple(self.symbols), industries=tuple(self.industries), tags=tuple(self.tags),
            attachments=tuple(Attachment(a.name, a.url, a.size, a.mime) for a in self.attachments),
            entitlement=self.entitlement,
        )  # fmt: skip
