"""GraphiQL and the /ops dashboard in headless Chromium, against a served process, with no network but
127.0.0.1: the editor renders from the app's own assets, a query and a subscription run, and the
dashboard logs in, shows live figures, acknowledges an alert and halts a symbol."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.e2e.browser import chromium
from tests.e2e.conftest import ROOT

SCREENSHOT = ROOT / "docs" / "ops-dashboard.png"
# The result pane's text once it contains {0} (GraphiQL's editors are CodeMirror 5 instances).
RESULT_WITH = (
    "(() => {{ const cm = document.querySelector('.result-window .CodeMirror');"
    " const v = cm ? cm.CodeMirror.getValue() : ''; return v.includes({0!r}) && v; }})()"
)


async def run_until(page, text: str) -> str:  # type: ignore[no-untyped-def]
    """Press run until the result shows `text`: GraphiQL takes an edit in after a short debounce, so a
    click right after setValue may still run the previous operation."""
    for _attempt in range(10):
        await page.js("document.querySelector('.graphiql-execute-button').click()")
        try:
            return await page.until(RESULT_WITH.format(text), timeout=5)
        except AssertionError:
            if await page.js("!!document.querySelector('.graphiql-execute-button[aria-label*=Stop]')"):
                await page.js("document.querySelector('.graphiql-execute-button').click()")  # stop a stream
    raise AssertionError(f"the result never showed {text}")


def only_local(urls: list[str]) -> list[str]:
    return [u for u in urls if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "about:"))]


async def test_graphiql_renders_and_runs_a_query_and_a_subscription_offline(served_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    served = served_factory().start()
    async with chromium(tmp_path / "profile") as page:
        await page.goto(served.url)
        await page.until("document.querySelector('.graphiql-container .CodeMirror') !== null")
        tabs = await page.until("document.querySelectorAll('.graphiql-tab').length")
        assert tabs >= 10  # the example operations, one tab per area
        # The first tab logs in; the console keeps the token for what follows.
        await page.js("document.querySelector('.graphiql-execute-button').click()")
        result = await page.until(RESULT_WITH.format("accessToken"))
        assert json.loads(result)["data"]["login"]["errors"] == []
        editor = "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
        await page.js(f'{editor}.setValue("{{ me {{ name tier {{ code }} }} }}")')
        me = await run_until(page, '"me"')  # sent with the remembered token
        assert json.loads(me)["data"]["me"]["tier"]["code"] == "GOLD"
        await page.js(f"{editor}.setValue('subscription {{ quotes(symbols: [\"600000\"]) {{ symbol last asOf }} }}')")
        pushed = await run_until(page, '"quotes"')
        assert (json.loads(pushed)["data"] or {}).get("quotes", {}).get("symbol") == "600000", pushed
        # later snapshots come from the group writer (subscriptions/quote_fanout.py): graphql-ws shows them too
        first_as_of = json.loads(pushed)["data"]["quotes"]["asOf"]
        later = await page.until(
            "(() => { const cm = document.querySelector('.result-window .CodeMirror');"
            " const v = cm ? cm.CodeMirror.getValue() : ''; return v.includes('\"asOf\"')"
            f" && !v.includes({first_as_of!r}) && v; }})()",
            timeout=15,
        )
        assert json.loads(later)["data"]["quotes"]["symbol"] == "600000", later
        await page.js("document.querySelector('.graphiql-execute-button').click()")  # stop the subscription
    assert page.requests, "the browser made no requests"
    assert only_local(page.requests) == []


async def test_the_ops_dashboard_shows_the_cluster_and_its_controls_work(served_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    served = served_factory(BROKERQL_MONITOR_INTERVAL_SECONDS="0.5").start()
    ops = served.gql('mutation { operatorLogin(input: {username: "ops", password: "Admin#2026"}) { accessToken } }')
    token = ops["data"]["operatorLogin"]["accessToken"]
    rule = served.gql(
        'mutation { setAlertRule(input: {name: "DASHBOARD_OPEN", figure: "cluster.connections", comparator: ">=", '
        "threshold: 1, severity: WARNING}) { errors { code } } }",
        token=token,
    )
    assert rule["data"]["setAlertRule"]["errors"] == []
    async with chromium(tmp_path / "profile") as page:
        await page.goto(served.url.replace("/graphql", "/ops"))
        await page.until("document.body.dataset.ready === '1'")  # ops.js has wired the forms
        await page.js(
            "(() => { const f = document.querySelector('#login'); f.username.value = 'ops';"
            " f.password.value = 'Admin#2026'; f.requestSubmit(); })()"
        )
        await page.until("document.querySelectorAll('#processes tbody tr').length >= 1")
        first = await page.until("document.body.dataset.updated")
        await page.until(f"document.body.dataset.updated && document.body.dataset.updated !== '{first}'")
        cards = await page.js("[...document.querySelectorAll('#headline .card')].map(c => c.textContent)")
        assert any("Clients online" in c for c in cards) and any("Orders/s" in c for c in cards)
        # The dashboard's own connection raises the rule; acknowledge it from the table.
        await page.until(
            "[...document.querySelectorAll('#alerts tbody tr')].some(r => r.textContent.includes('DASHBOARD_OPEN'))"
        )
        await page.js(
            "[...document.querySelectorAll('#alerts tbody tr')].find(r => r.textContent.includes('DASHBOARD_OPEN'))"
            ".querySelector('button').click()"
        )
        await page.until(
            "[...document.querySelectorAll('#alerts tbody tr')].some(r => r.textContent.includes('DASHBOARD_OPEN')"
            " && !r.querySelector('button'))"
        )
        await page.js(
            "(() => { const f = document.querySelector('#halt-form'); f.symbol.value = '600000';"
            " f.requestSubmit(f.querySelector('button[value=halt]')); })()"
        )
        await page.until("document.querySelector('#halts').textContent.includes('600000')")
        await page.screenshot(tmp_path / "ops.png")
        if os.environ.get("BROKERQL_UPDATE_SCREENSHOT") == "1":
            await page.screenshot(SCREENSHOT)
        await page.js(
            "(() => { const f = document.querySelector('#halt-form');"
            " f.requestSubmit(f.querySelector('button[value=resume]')); })()"
        )
        await page.until("document.querySelector('#halts').textContent === 'none'")
    assert only_local(page.requests) == []
    halted = served.gql("{ monitorStats { halts { symbols } } }", token=token)
    assert halted["data"]["monitorStats"]["halts"]["symbols"] == []
