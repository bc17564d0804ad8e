"""A subscription sent as an HTTP POST is refused with a code, not answered with INTERNAL."""

from __future__ import annotations


async def test_a_subscription_over_http_post_is_a_coded_refusal(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.http.post("/graphql", json={"query": "subscription { heartbeat { lastSeq } }"})
    body = response.json()
    assert response.status_code < 500, body
    extensions = [e.get("extensions", {}) for e in body.get("errors", [])]
    assert [(x.get("code"), x.get("reason")) for x in extensions] == [("BAD_USER_INPUT", "SUBSCRIPTION_OVER_HTTP")]
