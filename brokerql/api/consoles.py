"""The browser consoles served by the app itself, with no CDN and no build step: GraphiQL (on a
browser's GET /graphql) and the operator dashboard (/ops), plus their static files under /static.

The assets are files in brokerql/api/static (vendored by scripts/vendor_graphiql.sh). Who may open the
consoles is decided around these routes (`console_routes(gate=...)` wraps each endpoint), not here.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = files("brokerql.api") / "static"
Endpoint = Callable[[Request], Any]


def _page(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def graphiql_response() -> Response:
    return HTMLResponse(_page("graphiql.html"))


async def ops_page(_request: Request) -> Response:
    return HTMLResponse(_page("ops.html"))


def console_routes(gate: Callable[[Endpoint], Endpoint] | None = None) -> list[BaseRoute]:
    """/ops and /static; `gate` (e.g. a production access check) wraps the page endpoints."""
    wrap = gate or (lambda endpoint: endpoint)
    return [
        Route("/ops", wrap(ops_page), methods=["GET"]),
        Mount("/static", app=StaticFiles(packages=[("brokerql.api", "static")]), name="static"),
    ]
