"""Article search (B3): import N synthetic Chinese articles, then time ranked full-text searches.

    python bench/bench_article_search.py [--articles 3000] [--queries 300] [--database-url URL]

Default database: a fresh SQLite file (FTS5). For PostgreSQL (GIN over to_tsvector('simple', ...)),
pass an empty, migrated database's URL. Prints import rate and search latency p50/p99 for a page of 20,
each search going through the same reader the `articles(search:)` resolver uses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from brokerql.services.research.imports import FeedImporter
from brokerql.services.research.reading import ArticleFilter, ArticleReader
from brokerql.store.database import Database
from brokerql.store.migrate import upgrade_async

WORDS = ["银行", "资产质量", "净利润", "同比增长", "碳酸锂", "储能", "半导体", "估值修复", "高股息", "渠道改革",
         "基差", "回购", "分红", "动力电池", "海外工厂", "新能源", "白酒", "保险", "利率", "流动性"]  # fmt: skip
QUERIES = ["碳酸锂", "资产质量", "净利润 增长", "储能", "高股息 银行", "渠道改革", "海外工厂", "流动性"]


def synthetic(n: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    items = []
    for i in range(n):
        sentence = "，".join("".join(rng.sample(WORDS, 3)) for _ in range(12)) + "。"
        items.append({"id": f"B-{i}", "column": "research.stocks", "title": f"研究报告第{i}号：{rng.choice(WORDS)}",
                      "summary": sentence[:60], "body": sentence * 4})  # fmt: skip
    return json.dumps(items, ensure_ascii=False)


async def run(url: str, articles: int, queries: int) -> None:
    await upgrade_async(url)
    db = Database(url)
    try:
        started = time.perf_counter()
        report = await FeedImporter(db).run("json", synthetic(articles), actor="bench", source="bench")
        elapsed = time.perf_counter() - started
        print(f"imported {len(report.imported)} articles in {elapsed:.1f} s ({len(report.imported) / elapsed:.0f}/s)")
        reader = ArticleReader(db)
        timings = []
        for i in range(queries):
            query = QUERIES[i % len(QUERIES)]
            t0 = time.perf_counter()
            rows = await reader.page(ArticleFilter(search=query), None, 21)
            timings.append((time.perf_counter() - t0) * 1000)
            assert rows, query
        timings.sort()
        p99 = timings[int(len(timings) * 0.99) - 1]
        print(f"{queries} searches, page of 20: p50 {statistics.median(timings):.1f} ms, p99 {p99:.1f} ms")
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    asyncio.run(run(url, args.articles, args.queries))


if __name__ == "__main__":
    main()
