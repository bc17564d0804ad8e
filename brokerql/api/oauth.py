"""POST /oauth/token: OAuth2 client credentials for registered partner applications (F1)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

from brokerql.container import Container

MAX_BODY = 8192


def token_endpoint(container: Container):  # type: ignore[no-untyped-def]
    async def token(request: Request) -> JSONResponse:
        # RFC 6749 token requests are application/x-www-form-urlencoded: the standard library reads them.
        body = (await request.body())[:MAX_BODY].decode("utf-8", "replace")
        form = dict(parse_qsl(body, keep_blank_values=True))
        # TLS ends at the load balancer (E1): authlib insists on an https URI, which the public one is.
        uri = str(request.url.replace(scheme="https"))
        result = await container.identity.partners.token(uri, request.headers, form)
        headers = {k: v for k, v in result.headers if k.lower() != "content-type"}
        return JSONResponse(result.body, status_code=result.status, headers=headers)

    return token
