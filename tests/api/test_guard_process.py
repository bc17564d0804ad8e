"""Documents checked in a worker process (schema/guard_process.py) get the answers they get on the loop
and in worker threads; the processes start and stop with the app, and one that dies is replaced."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import AsyncIterator
from typing import Any

import httpx

from brokerql.api.app import create_app
from brokerql.container import Container
from brokerql.schema.guard_process import DocumentChecks

PAD = "\n# " + "padding " * 200  # over 1 KiB: the whole check goes to a process (or a thread)


def fragments(count: int, selection: str) -> str:
    spreads = " ".join(f"...F{i}" for i in range(count))
    return f"query Many {{ {spreads} }} " + " ".join(f"fragment F{i} on Query {{ {selection} }}" for i in range(count))


DOCUMENTS: list[tuple[str, dict[str, Any]]] = [
    # refused by the field pairs validation would compare (3.6 KiB)
    (fragments(40, "tiers { code name rank }"), {}),
    # 182 field pairs: validated off the loop, and run
    (fragments(14, "tiers { code }"), {}),
    # over 1 KiB, valid: run, with its cost
    ("query Tiers { tiers { code name } }" + PAD, {}),
    # the same with Int variables (the cost depends on them)
    ("query($n: Int) { instruments(first: $n) { edges { node { symbol } } } }" + PAD, {"n": 3}),
    # validation errors, with their locations
    (fragments(10, "tiers { code nope }") + PAD, {}),
    ("query Bad($x: Int) { tiers { code } nothere }" + PAD, {}),
    # a syntax error
    ("query Broken { tiers { code }" + PAD, {}),
    # the token limit (the prescan's), and the parser's own for a document the prescan counts lower
    ("{ " + " ".join(f"f{i}" for i in range(2100)) + " }", {}),
    # the prescan's repeated fields
    ("query Dup { " + "__typename " * 300 + "}", {}),
    # depth: refused after parsing, by the inspection
    ("{ __schema { types { " + "fields { type { ofType { " * 4 + "name" + " } } }" * 4 + " } } }" + PAD, {}),
    # no operation of that name (strawberry's own answer)
    ("query Tiers { tiers { code } }" + PAD, {"operationName": "Other"}),
    # a subscription over HTTP
    ('subscription { quotes(symbols: ["600000"]) { symbol } }' + PAD, {}),
]


@contextlib.asynccontextmanager
async def served(settings: Any) -> AsyncIterator[tuple[DocumentChecks, httpx.AsyncClient]]:
    app = create_app(settings, Container.build(settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield app.state.edge.checks, http


async def answer(http: httpx.AsyncClient, query: str, extra: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"query": query}
    if "operationName" in extra:
        body["operationName"] = extra["operationName"]
    else:
        body["variables"] = extra
    response = await http.post("/graphql", json=body)
    data = response.json()
    data.get("extensions", {}).get("cost", {}).pop("throttleStatus", None)  # the budget left varies
    return response.status_code, data


def children() -> set[int]:
    return {p.pid for p in multiprocessing.active_children()}


async def test_a_worker_process_answers_as_the_loop_and_threads_do(backend) -> None:  # type: ignore[no-untyped-def]
    before = children()
    answers = []
    for processes in (0, 1):
        settings = backend.settings.model_copy(update={"guard_processes": processes})
        async with served(settings) as (checks, http):
            assert checks.running == bool(processes)
            # Texts of their own (the caches are the process's): a first line of the same length each time.
            answers.append(
                [
                    await answer(http, f"# run {processes} on {backend.name}\n{query}", extra)
                    for query, extra in DOCUMENTS
                ]
            )
            assert checks.checked == (len(DOCUMENTS) if processes else 0)
            assert (children() - before) if processes else not (children() - before)
        assert not checks.running and not (children() - before)  # stopped with the app
    threads, processes = answers
    for (query, _), on_threads, in_process in zip(DOCUMENTS, threads, processes, strict=True):
        assert in_process == on_threads, query[:80]
    codes = [body["errors"][0]["extensions"].get("code") if "errors" in body else None for _, body in threads]
    rules = [body["errors"][0]["extensions"].get("rule") if "errors" in body else None for _, body in threads]
    assert rules[0] == "overlappingFields" and rules[7] == "tokens" and rules[8] == "duplicateFields"
    assert rules[9] == "depth" and codes[1] is None and codes[2] is None and codes[10] == "BAD_REQUEST"
    assert threads[1][1]["data"]["tiers"] and threads[3][1]["extensions"]["cost"]["requestedQueryCost"] == 9
    assert "nope" in threads[4][1]["errors"][0]["message"] and threads[4][1]["errors"][0]["locations"]
    assert "Syntax Error" in threads[6][1]["errors"][0]["message"] and threads[10][0] == 400


async def test_a_worker_process_that_dies_is_replaced(backend) -> None:  # type: ignore[no-untyped-def]
    before = children()
    settings = backend.settings.model_copy(update={"guard_processes": 1})
    query, extra = f"# {backend.name}\n{DOCUMENTS[0][0]}", DOCUMENTS[0][1]
    async with served(settings) as (checks, http):
        expected = await answer(http, query, extra)
        assert checks.checked == 1
        for pid in children() - before:
            os.kill(pid, signal.SIGKILL)
        # Answered all the same (in a thread while new workers start), then by a new worker.
        assert await answer(http, query + "\n# again", extra) == expected
        assert await answer(http, query + "\n# and again", extra) == expected
        assert checks.running and checks.checked >= 2
    assert not (children() - before)
