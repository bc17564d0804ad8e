"""B1: feed parsing into typed items with line numbers; entitlement defaults; segmentation."""

from __future__ import annotations

from datetime import UTC, datetime

from brokerql.bus import codec
from brokerql.domain.identity.tiers import RESEARCH_BASIC, RESEARCH_PREMIUM
from brokerql.domain.research.articles import ArticleContent, validate
from brokerql.domain.research.columns import COLUMNS, article_entitlement, column_and_children
from brokerql.domain.research.feeds import parse_feed
from brokerql.domain.research.messages import ArticlePublished
from brokerql.domain.research.segmenter import highlight, query_terms, segment
from brokerql.research_samples import SAMPLE_FILES


def test_vendor_csv_sample_reads_items_and_reports_the_bad_line() -> None:
    parsed = parse_feed("vendor", SAMPLE_FILES["vendor"].read_text())
    assert [i.item_id for i in parsed.items][:2] == ["VND-20261127-001", "VND-20261127-002"]
    first = parsed.items[0]
    assert (first.source, first.revision, first.line) == ("vendor", "1", 2)
    assert first.content.symbols == ("510300", "600000") and "\n\n" in first.content.body
    assert first.content.published_at == datetime(2026, 11, 27, 0, 30, tzinfo=UTC)  # 08:30 Beijing
    assert [(e.line, e.message) for e in parsed.errors] == [(7, "bad time 'not-a-date'")]


def test_json_sample_lines_and_an_unknown_column() -> None:
    parsed = parse_feed("json", SAMPLE_FILES["json"].read_text())
    assert [(i.item_id, i.line) for i in parsed.items] == [("RSH-2026-1101", 2), ("RSH-2026-1102", 16),
                                                           ("RSH-2026-1103", 28)]  # fmt: skip
    assert parsed.items[0].content.attachments[0].name == "catl-deep-dive.pdf"
    assert len(parsed.errors) == 1 and parsed.errors[0].line == 38 and "no.such.column" in parsed.errors[0].message


def test_json_syntax_error_keeps_what_came_before() -> None:
    parsed = parse_feed("json", '[{"id": "a", "column": "featured", "title": "t"},\n{"id": "b", oops}]')
    assert [i.item_id for i in parsed.items] == ["a"]
    assert parsed.errors[0].line == 2


def test_markdown_front_matter_and_a_bad_one() -> None:
    parsed = parse_feed("markdown", SAMPLE_FILES["markdown"].read_text())
    (item,) = parsed.items
    assert item.content.column == "reports.morning_notes" and item.content.symbols == ("600000", "000001", "601318")
    assert item.content.body.startswith("## 宏观")
    bad = parse_feed("markdown", "---\ntitle: [unclosed\n---\nbody")
    assert bad.items == () and bad.errors[0].line >= 2


def test_announcements_sse_and_szse_styles() -> None:
    parsed = parse_feed("announcements", SAMPLE_FILES["announcements"].read_text())
    assert [(i.source, i.content.symbols) for i in parsed.items] == [
        ("SSE", ("600000",)), ("SSE", ("600519",)), ("SZSE", ("000001",)), ("SZSE", ("300750",)),
    ]  # fmt: skip
    assert parsed.items[2].content.column == "announcements" and parsed.items[2].content.attachments
    assert [e.line for e in parsed.errors] == [5]


def test_entitlement_defaults_to_the_column() -> None:
    assert article_entitlement("reports.company", None) == RESEARCH_PREMIUM
    assert article_entitlement("reports.morning_notes", None) == RESEARCH_BASIC
    assert article_entitlement("featured", RESEARCH_PREMIUM) == RESEARCH_PREMIUM
    assert set(column_and_children("research")) >= {"research", "research.stocks", "research.others"}
    assert COLUMNS["risk"].risk_control and not COLUMNS["featured"].risk_control


def test_validation_codes() -> None:
    content = ArticleContent(title="", summary="", body="", column="nope", symbols=("60 0000",), entitlement="x.y")
    assert {r.code for r in validate(content)} == {
        "TITLE_REQUIRED",
        "UNKNOWN_COLUMN",
        "BAD_SYMBOL",
        "UNKNOWN_ENTITLEMENT",
    }


def test_segmentation_finds_words_inside_sentences_and_highlights() -> None:
    text = "宁德时代市场份额维持全球第一，电池级碳酸锂价格企稳回升。"
    assert "碳酸锂" in segment(text).split()
    assert query_terms("碳酸锂 价格") == ["碳酸锂", "价格"]
    assert query_terms('x" OR 1=1 --') == ["x", "or", "1"]  # only word characters reach the index query
    assert "<mark>碳酸锂</mark>" in highlight(text, ["碳酸锂"])


def test_article_published_round_trips_through_the_codec() -> None:
    message = ArticlePublished(
        article_id="art_1", column="featured", entitlement=RESEARCH_BASIC, title="t", summary="s",
        symbols=("600000",), published_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    record = codec.to_record(message)
    assert record["type"] == "ArticlePublished" and record["v"] == 1
    assert codec.from_record(record) == message
    assert codec.decode(codec.encode(message)) == message
