"""B1 imports on both backends: idempotent re-runs, edited feeds recorded as revisions, per-line errors,
the operator mutation with a multipart upload, and the CLI."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import func, select

from brokerql.cli import main
from brokerql.research_samples import SAMPLE_FILES
from brokerql.store.tables_research import ArticleEventRow, ArticleRow
from tests.api.article_helpers import operator_token
from tests.api.conftest import GraphQLClient

IMPORT = """mutation($f: FeedFormat!, $file: Upload!, $p: Boolean) {
  importArticles(format: $f, file: $file, publish: $p) { imported { line itemId articleId } updated { line itemId }
    skipped { line itemId reason } errors { line message } } }"""
FEED = [
    {"id": "T-1", "revision": "1", "column": "featured", "title": "第一条", "body": "正文一", "symbols": ["600000"]},
    {"id": "T-2", "revision": "1", "column": "reports.company", "title": "第二条", "body": "正文二"},
]


async def _count(client: GraphQLClient, *where: object) -> int:
    async with client.container.db.read() as session:
        return await session.scalar(select(func.count()).select_from(ArticleRow).where(*where))


async def test_reimport_is_idempotent_and_an_edit_is_a_revision(client: GraphQLClient) -> None:
    importer = client.container.research.importer
    first = await importer.run("json", json.dumps(FEED), actor="test", source="t")
    assert [x.item_id for x in first.imported] == ["T-1", "T-2"] and first.errors == []
    again = await importer.run("json", json.dumps(FEED), actor="test", source="t")
    assert again.imported == [] and again.updated == [] and [x.reason for x in again.skipped] == ["unchanged"] * 2
    assert await _count(client, ArticleRow.source == "t") == 2
    edited = [{**FEED[0], "revision": "2", "body": "正文一（更正）"}, FEED[1]]
    third = await importer.run("json", json.dumps(edited), actor="test", source="t")
    assert [x.item_id for x in third.updated] == ["T-1"] and [x.item_id for x in third.skipped] == ["T-2"]
    stale = await importer.run("json", json.dumps([{**FEED[0], "revision": "1", "body": "旧"}]), actor="x", source="t")
    assert stale.skipped[0].reason == "revision 1 is not newer than 2"
    article_id = third.updated[0].article_id
    async with client.container.db.read() as session:
        row = await session.get(ArticleRow, article_id)
        events = (await session.scalars(
            select(ArticleEventRow).where(ArticleEventRow.article_id == article_id).order_by(ArticleEventRow.at)
        )).all()  # fmt: skip
    assert (row.body, row.revision, row.status) == ("正文一（更正）", 2, "PUBLISHED")
    assert [e.kind for e in events] == ["CREATED", "PUBLISHED", "REVISED"] and events[-1].payload[
        "body"
    ] == "正文一（更正）"
    assert await _count(client, ArticleRow.source == "t") == 2


async def test_samples_reimport_without_duplicates(client: GraphQLClient) -> None:
    importer = client.container.research.importer
    before = await _count(client)
    for fmt, path in SAMPLE_FILES.items():  # already imported by the demo seed
        report = await importer.run(fmt, path.read_text(), actor="test")
        assert report.imported == [] and report.updated == [] and report.skipped
        assert all(e.line > 0 for e in report.errors)
    assert await _count(client) == before


async def test_operator_uploads_a_feed_file(client: GraphQLClient) -> None:
    editor = await operator_token(client, "editor")
    lines = SAMPLE_FILES["vendor"].read_text().splitlines()
    text = "\n".join([lines[0], lines[1].replace("VND-20261127-001", "UP-1"), "UP-2,1,featured,,只有标题", lines[6]])
    operations = {"query": IMPORT, "variables": {"f": "VENDOR", "file": None, "p": True}}
    response = await client.http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("feed.csv", text.encode(), "text/csv")},
        headers={"authorization": f"Bearer {editor}"},
    )
    assert response.status_code == 200, response.text
    report = response.json()["data"]["importArticles"]
    assert [x["itemId"] for x in report["imported"]] == ["UP-1"]
    assert report["errors"] == [{"line": 3, "message": "expected 12 fields, got 5"},
                                {"line": 4, "message": "bad time 'not-a-date'"}]  # fmt: skip
    reviewer = await operator_token(client, "reviewer")  # may not publish, so may not import published
    denied = await client.http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("feed.csv", text.encode(), "text/csv")},
        headers={"authorization": f"Bearer {reviewer}"},
    )
    assert denied.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_cli_imports_a_file(backend, tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BROKERQL_DATABASE_URL", backend.settings.database_url)
    monkeypatch.setenv("BROKERQL_SECRET_KEY", backend.settings.secret_key)
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps(FEED), encoding="utf-8")

    async def cli(*args: str) -> int:
        return await asyncio.to_thread(main, list(args))  # the CLI runs its own event loop

    assert await cli("import", "json", str(feed), "--source", "cli") == 0
    assert "imported 2, updated 0, skipped 0, errors 0" in capsys.readouterr().out
    assert await cli("import", "json", str(feed), "--source", "cli") == 0
    assert "imported 0, updated 0, skipped 2, errors 0" in capsys.readouterr().out
    assert await cli("import", "markdown", str(tmp_path / "missing.md")) == 2
