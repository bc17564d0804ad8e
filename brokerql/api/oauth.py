"""POST /oauth/token: OAuth2 client credentials for registered partner applications (F1)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from brokerql.container import Container


def token_endpoint(container: Container):  # type: ignore[no-untyped-def]
    async def token(request: Request) -> JSONResponse:
        form = {k: str(v) for k, v in (await request.form()).items()}
        # TLS ends at the load balancer (E1): authlib insists on an https URI, which the public one is.
        uri = str(request.url.replace(scheme="https"))
        result = await container.identity.partners.token(uri, request.headers, form)
        headers = {k: v for k, v in result.headers if k.lower() != "content-type"}
        return JSONResponse(result.body, status_code=result.status, headers=headers)

    return token
