"""The kept-answer lane (api/kept_lane.py): a kept market read answered beside strawberry's view gets
the full path's answer, and every check the full path makes (session, request count, cost budget,
entitlements) holds on it; whatever the lane cannot answer, the full path answers, with nothing
counted twice."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from brokerql.api.kept_lane import KeptAnswerLane, asked
from brokerql.container import Container
from brokerql.exchange.engine import quote_topic
from tests.api.conftest import GraphQLClient, make_idle, serve_in_process

LEVEL1 = "query Q($s: String!) { quote(symbol: $s) { symbol last bid ask volume delayed asOf } }"
TRADES = "query T($s: String!) { quote(symbol: $s) { symbol last trades(first: 5) { price } } }"
FIVE = "query F($s: String!) { " + " ".join(f"q{n}: quote(symbol: $s) {{ symbol last }}" for n in range(5)) + " }"
EDIT = """mutation($rpm: Int) { editTier(input: {code: "STANDARD", requestsPerMinute: $rpm}) {
  limits { requestsPerMinute } } }"""


class Lanes:
    """Which path answered each request: "lane" or "full"; `closed` sends every request the full way."""

    def __init__(self) -> None:
        self.taken: list[str] = []
        self.closed = False


@pytest.fixture
def lanes(monkeypatch: pytest.MonkeyPatch) -> Lanes:
    seen, answer = Lanes(), KeptAnswerLane.answer

    async def watched(self: KeptAnswerLane, request: Any) -> Any:
        response = None if seen.closed else await answer(self, request)
        seen.taken.append("full" if response is None else "lane")
        return response

    monkeypatch.setattr(KeptAnswerLane, "answer", watched)
    return seen


async def post(client: GraphQLClient, query: str, token: str | None, symbol: str = "600000") -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await client.http.post("/graphql", json={"query": query, "variables": {"s": symbol}}, headers=headers)


async def same_snapshot_pair(client: GraphQLClient, lanes: Lanes, query: str) -> tuple[Any, Any]:
    """The full path's answer and then the lane's, for one snapshot (retried when the market moved)."""
    topic, market = quote_topic("600000"), client.container.market
    for _ in range(50):
        await post(client, query, client.token)  # kept, if nothing moves meanwhile
        before = market.peek(topic)
        lanes.closed = True
        full = await post(client, query, client.token)
        lanes.closed = False
        kept = await post(client, query, client.token)
        if market.peek(topic) is before and lanes.taken[-1] == "lane":
            return full, kept
    raise AssertionError("the quote moved during every one of 50 pairs")


def without_levels(body: dict) -> dict:
    """The answer less the budget's level, which each request's own charge moves."""
    status = body["extensions"]["cost"]["throttleStatus"]
    return {**body, "extensions": {"cost": {**body["extensions"]["cost"], "throttleStatus": status.keys()}}}


async def test_a_kept_answer_takes_the_lane_and_is_the_full_paths_answer(client: GraphQLClient, lanes: Lanes) -> None:
    await client.login("gold001")
    for query in (LEVEL1, TRADES):
        full, kept = await same_snapshot_pair(client, lanes, query)
        assert (kept.status_code, kept.headers["content-type"]) == (full.status_code, full.headers["content-type"])
        assert without_levels(kept.json()) == without_levels(full.json())
        assert "errors" not in kept.json() and kept.json()["data"]["quote"]["symbol"] == "600000"
        named = {k for k in full.headers if k not in ("x-request-id", "content-length")}
        assert named == {k for k in kept.headers if k not in ("x-request-id", "content-length")}
        assert kept.headers["x-request-id"] and int(kept.headers["ratelimit-remaining"]) >= 0
    topic, market = quote_topic("600000"), client.container.market
    for _ in range(50):  # the lane answers only for the snapshot it kept: again if the market moved meanwhile
        await post(client, LEVEL1, client.token)
        before = market.peek(topic)
        strict = await client.http.post(
            "/graphql",
            json={"query": LEVEL1, "variables": {"s": "600000"}},
            headers={"authorization": f"Bearer {client.token}", "accept": "application/graphql-response+json"},
        )
        if market.peek(topic) is before:
            break
    assert lanes.taken[-1] == "lane" and strict.headers["content-type"].startswith("application/graphql-response+json")


async def test_what_the_lane_does_not_know_takes_the_full_path(client: GraphQLClient, lanes: Lanes) -> None:
    token = await client.login("gold001")
    for _ in range(3):
        await post(client, LEVEL1, token)
    assert "lane" in lanes.taken
    lanes.taken.clear()
    assert (await post(client, LEVEL1, None)).json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    other = LEVEL1.replace("asOf", "asOf high")  # a document the guard has not admitted yet
    assert "errors" not in (await post(client, other, token)).json()
    unknown = await post(client, LEVEL1, token, symbol="NOPE99")  # an answer with errors is never kept
    assert unknown.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await post(client, LEVEL1, token, symbol="NOPE99")).json()["errors"]
    with_extensions = await client.http.post(
        "/graphql", json={"query": LEVEL1, "variables": {"s": "600000"}, "extensions": {}},
        headers={"authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert "errors" not in with_extensions.json()
    assert lanes.taken == ["full"] * 5


def test_only_plain_json_bodies_are_asked() -> None:
    assert asked(b'{"query": "{ a }", "variables": {"s": "1"}, "operationName": "Q"}') == ("{ a }", "Q", {"s": "1"})
    assert asked(b'{"query": "{ a }"}') == ("{ a }", None, {})
    for body in (
        '{"query": "{ a }"}'.encode("utf-16"),  # the full path reads UTF-8 only, and refuses this
        b'{"query": "{ a }", "extensions": {}}',
        b'[{"query": "{ a }"}]',
        b'{"query": 1}',
        b'{"query": "{ a }", "variables": []}',
        b'{"query": "{ a }", "operationName": 3}',
        b"not json",
    ):
        assert asked(body) is None, body


async def test_a_locked_or_ended_session_is_refused_as_on_the_full_path(client: GraphQLClient, lanes: Lanes) -> None:
    token = await client.login("std001")
    for _ in range(3):
        assert "errors" not in (await post(client, LEVEL1, token)).json()
    assert lanes.taken[-1] == "lane"
    await make_idle(client, token)
    locked = (await post(client, LEVEL1, token)).json()
    assert locked["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "SESSION_LOCKED"}
    assert lanes.taken[-1] == "full"
    token = await client.login("std002")
    for _ in range(2):
        await post(client, LEVEL1, token)
    await client.execute("mutation { logout { ok } }", token=token)
    ended = (await post(client, LEVEL1, token)).json()
    assert ended["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" and lanes.taken[-1] == "full"


@contextlib.asynccontextmanager
async def strict(backend: Any, **overrides: Any) -> AsyncIterator[GraphQLClient]:
    """A process with the real limits (the suite scales them up)."""
    settings = backend.settings.model_copy(update={"rate_limit_scale": 1.0, **overrides})
    async with serve_in_process(settings, Container.build(settings)) as client:
        yield client


async def test_each_request_counts_once_toward_the_tier_limit(backend: Any, lanes: Lanes) -> None:
    async with strict(backend) as client:
        admin = await client.execute(
            'mutation { operatorLogin(input: {username: "admin", password: "Admin#2026"}) { accessToken } }'
        )
        edited = await client.execute(EDIT, {"rpm": 10}, token=admin["data"]["operatorLogin"]["accessToken"])
        assert edited["data"]["editTier"]["limits"]["requestsPerMinute"] == 10, edited
        token = await client.login("std001")
        lanes.taken.clear()
        statuses = [(await post(client, LEVEL1, token)).status_code for _ in range(11)]
        assert statuses == [200] * 10 + [429], (statuses, lanes.taken)
        assert "lane" in lanes.taken  # the lane counted its requests once each, and raised the 429


async def test_a_spent_cost_budget_is_refused_as_on_the_full_path(backend: Any, lanes: Lanes) -> None:
    async with strict(backend, cost_points_per_request=1) as client:
        token = await client.login("std001")  # STANDARD: 60 requests a minute -> 60 points
        first = await post(client, FIVE, token)
        cost = first.json()["extensions"]["cost"]["requestedQueryCost"]
        assert cost > 1, first.json()  # more points than requests: the budget runs out first
        answers = [first]
        while answers[-1].status_code == 200 and len(answers) < 60:
            answers.append(await post(client, FIVE, token))
        # 60 points hold 60 // cost answers; the bucket leaks a point a second meanwhile
        assert 60 // cost <= len(answers) - 1 <= 60 // cost + 1 and "lane" in lanes.taken
        refused = answers[-1]
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        error = refused.json()["errors"][0]["extensions"]
        assert error["code"] == "RATE_LIMITED" and error["cost"] == cost
        assert lanes.taken[-1] == "full"  # the refusal is the full path's own
