"""GraphQL over HTTP, hardened: body limit, strict bodies, media types, persisted queries, production gates.

- Media types: `application/json` answers as it always has (200 with `errors` for parse, validation
  and coercion failures). `application/graphql-response+json`, when the client prefers it, answers with
  that type and the spec's status codes: 400 with no `data` for a request error.
- Every malformed body (not JSON, not UTF-8, too deep, not an object, wrong parameter types) is a 400
  with a JSON error coded BAD_REQUEST; a body over `max_body_bytes` is a 413 QUERY_TOO_COMPLEX.
- Persisted queries (api/persisted.py). In production GET runs persisted queries only, and GraphiQL is
  served to operators only (bearer token or the operator cookie); elsewhere it is a 404.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type

from brokerql.api.context import RequestRateLimited
from brokerql.api.edge import Edge
from brokerql.api.kept_lane import KeptAnswerLane
from brokerql.api.persisted import sha256
from brokerql.api.ws_protocol import ProtocolHandler
from brokerql.logs import begin_request

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


class Refusal(Exception):
    """A request refused before GraphQL runs: answered as a GraphQL-shaped JSON error with a status."""

    def __init__(
        self, status: int, message: str, code: str = "BAD_REQUEST", headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.extra = status, message, code, extra
        self.headers = headers or {}


class BodyTooLarge(Exception):
    """Over `max_body_bytes`; `declared` is its Content-Length (None: a chunked body), `ended` whether
    the server has read all of it."""

    def __init__(self, declared: int | None, ended: bool = False) -> None:
        self.declared, self.ended = declared, ended


# A body over the limit is answered 413 at once (from its Content-Length, before any of it is read). The
# server still reads the rest and drops it, so that the client reads the answer and can reuse the
# connection: closing with unread data resets it (measured: 118 of 200 clients sending 550 KB lost the
# 413). Up to this much; past it (a larger Content-Length, or a chunked body that goes on) the 413 closes
# the connection.
DRAIN_BYTES = 1024 * 1024


async def drained(receive: Any, budget: int) -> bool:
    """Read and drop the rest of a chunked body: whether it ended within `budget` bytes."""
    while budget >= 0:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return True
        budget -= len(message.get("body", b""))
    return False


def negotiate(accept: str | None) -> str:
    """The response media type: graphql-response+json when the client ranks it first, else JSON."""
    best, best_q = JSON, -1.0
    for index, part in enumerate((accept or "").split(",")):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        if media not in (JSON, GRAPHQL_RESPONSE):
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q or (q == best_q and index == 0):
            best, best_q = media, q
    return best


def error_body(message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, **extra}}]}


def decode_body(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise Refusal(400, "The request body is not valid UTF-8.") from None
    except RecursionError:
        raise Refusal(400, "The request body is nested too deeply.") from None
    except ValueError:  # JSONDecodeError, and integers longer than Python reads
        raise Refusal(400, "The request body is not valid JSON.") from None


class HardenedGraphQL(GraphQL):
    graphql_transport_ws_handler_class = ProtocolHandler

    def __init__(self, edge: Edge, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.edge = edge
        kept = edge.settings.kept_answer_lane and getattr(self.schema, "kept_answers", None) is not None
        self.kept_lane = KeptAnswerLane(self) if kept else None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        given = dict(scope.get("headers") or []).get(b"x-request-id")
        request_id = begin_request(given.decode("latin-1") if given else None)
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive=self._limited(scope, receive))
        media = negotiate(request.headers.get("accept"))
        try:
            await self._anonymous_quota(request)
            lane = self.kept_lane
            response = (lane is not None and await lane.answer(request)) or await self.run(request)
        except Refusal as refusal:
            body = error_body(refusal.message, refusal.code, **refusal.extra)
            response = JSONResponse(body, status_code=refusal.status, media_type=media, headers=refusal.headers)
        except BodyTooLarge as large:
            limit = self.edge.limits.max_body_bytes
            body = error_body(
                f"The request body is over {limit} bytes.", "QUERY_TOO_COMPLEX", rule="bodyBytes", limit=limit
            )
            if large.ended:
                ended = True
            elif large.declared is None:
                ended = await drained(receive, DRAIN_BYTES)
            else:
                ended = large.declared <= DRAIN_BYTES  # the server drops the rest after the answer
            headers = None if ended else {"connection": "close"}
            response = JSONResponse(body, status_code=413, media_type=media, headers=headers)
        except HTTPException as exc:
            response = JSONResponse(
                error_body(exc.reason, "BAD_REQUEST"), status_code=exc.status_code, media_type=media
            )
        response.headers["x-request-id"] = request_id
        await response(scope, receive, send)

    def _limited(self, scope: Any, receive: Any) -> Any:
        limit = self.edge.limits.max_body_bytes
        header = dict(scope.get("headers") or []).get(b"content-length")
        declared = int(header) if header is not None and header.isdigit() else None
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            if declared is not None and declared > limit:
                raise BodyTooLarge(declared)
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(declared, ended=not message.get("more_body", False))
            return message

        return limited

    async def _anonymous_quota(self, request: Request) -> None:
        if request.headers.get("authorization") or request.method not in ("GET", "POST"):
            return
        decision = await self.edge.anonymous_request(request.scope)
        if not decision.allowed:
            raise RequestRateLimited(decision.retry_after, decision.limit)

    async def get_sub_response(self, request: Request) -> Response:  # type: ignore[override]
        """One per request: the kept-answer lane's, when it handed the request on (its context holds it)."""
        made = getattr(request.state, "sub_response", None)
        if made is not None:
            return made
        sub_response = await super().get_sub_response(request)
        request.state.sub_response = sub_response
        request.state.media_type = negotiate(request.headers.get("accept"))
        return sub_response

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        """Strawberry's response, encoded by msgspec (UTF-8, no escapes) with the negotiated media type
        set once: json.dumps and a second header write were 5% of a cached quote's CPU."""
        media = getattr(sub_response, "negotiated", JSON)
        response = Response(
            msgspec.json.encode(response_data),
            status_code=sub_response.status_code or 200,
            media_type=f"{media}; charset=utf-8" if media == GRAPHQL_RESPONSE else JSON,
        )
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        return response

    async def process_result(self, request: Request, result: Any) -> Any:  # type: ignore[override]
        data = await super().process_result(request, result)
        sub_response = request.state.sub_response
        media = request.state.media_type
        sub_response.negotiated = media
        errors = result.errors or []
        request_error = result.data is None and errors and all(e.path is None for e in errors)
        if not request_error:
            pending = getattr(request.state, "apq_pending", None)
            if pending is not None:  # an automatic persisted query that parsed, validated and ran
                await self.edge.persisted.remember(*pending)
            return data
        codes = {(e.extensions or {}).get("code") for e in errors}
        if "RATE_LIMITED" in codes:
            sub_response.status_code = 429
        elif media == GRAPHQL_RESPONSE:
            sub_response.status_code = 400
        if media == GRAPHQL_RESPONSE:
            data.pop("data", None)
        return data

    # -- GraphiQL ------------------------------------------------------------------------------------
    def should_render_graphql_ide(self, request: Any) -> bool:
        """A browser's GET without an operation; a GET carrying a persisted query's hash is an operation."""
        return super().should_render_graphql_ide(request) and request.query_params.get("extensions") is None

    def ide_refusal(self, request: Request) -> Response | None:
        """Production serves GraphiQL to operators only (bearer token or operator cookie): a 404 otherwise."""
        if self.edge.production and self.edge.operator_of(request.headers) is None:
            return JSONResponse(error_body("Not found.", "NOT_FOUND"), status_code=404)
        return None

    async def render_graphql_ide(self, request: Request) -> Response:  # type: ignore[override]
        return self.ide_refusal(request) or await super().render_graphql_ide(request)

    # -- bodies --------------------------------------------------------------------------------------
    async def parse_http_body(self, request: Any) -> GraphQLRequestData:  # type: ignore[override]
        if request.method == "GET":
            data = self._query_params(request.query_params)
        else:
            content_type, _ = parse_content_type(request.content_type or "")
            if self.multipart_uploads_enabled and content_type == "multipart/form-data":
                # GraphQL multipart uploads (operators' feed files): authorised by a bearer header,
                # which a cross-site form cannot send, so this opens no CSRF path
                if not request.headers.get("authorization"):
                    raise Refusal(401, "Uploads need `Authorization: Bearer <token>`.", "UNAUTHENTICATED")
                data = await self.parse_multipart(request)
            elif content_type not in (JSON, GRAPHQL_RESPONSE) and not content_type.endswith("+json"):
                raise Refusal(415, "Send GraphQL as JSON: Content-Type: application/json.")
            else:
                data = decode_body(await request.get_body())
        if isinstance(data, list):
            raise Refusal(400, "Batched operations are not accepted; send one operation per request.")
        if not isinstance(data, dict):
            raise Refusal(400, "The request body must be a JSON object with a `query`.")
        query, variables = data.get("query"), data.get("variables")
        operation_name, extensions = data.get("operationName"), data.get("extensions")
        for name, value, kinds in (
            ("query", query, str),
            ("variables", variables, dict),
            ("operationName", operation_name, str),
            ("extensions", extensions, dict),
        ):
            if value is not None and not isinstance(value, kinds):
                raise Refusal(400, f"The `{name}` parameter must be a {kinds.__name__} or null.")
        query = await self._persisted(request, query, extensions)
        return GraphQLRequestData(
            query=query, variables=variables, operation_name=operation_name, extensions=extensions, protocol="http"
        )

    def _query_params(self, params: Any) -> dict[str, Any]:
        data: dict[str, Any] = dict(params)
        for name in ("variables", "extensions"):
            if isinstance(data.get(name), str) and data[name]:
                data[name] = decode_body(data[name].encode("utf-8", "surrogatepass"))
        return data

    async def _persisted(self, request: Any, query: str | None, extensions: dict[str, Any] | None) -> str | None:
        persisted = (extensions or {}).get("persistedQuery")
        production_get = request.method == "GET" and self.edge.production
        if persisted is None:
            if production_get:
                raise Refusal(405, "GET runs persisted queries only; POST other operations as JSON.")
            return query
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if not isinstance(digest, str) or persisted.get("version") != 1:
            raise Refusal(400, "persistedQuery needs version 1 and a sha256Hash.")
        digest = digest.lower()
        if query is None:
            found = await self.edge.persisted.lookup(digest)
            if found is None:
                raise Refusal(200, "PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
            return found
        if sha256(query) != digest:
            raise Refusal(400, "The sha256Hash does not match the query.")
        if production_get:
            raise Refusal(405, "Register a persisted query with POST; GET sends its hash only.")
        if not self.edge.persisted_only and await self.edge.persisted.lookup(digest) is None:
            request = getattr(request, "_request", request)  # strawberry's adapter wraps Starlette's request
            decision = await self.edge.apq_registration(request.scope)
            if not decision.allowed:
                raise Refusal(
                    429,
                    f"More than {decision.limit} new persisted queries from your address in an hour.",
                    "RATE_LIMITED",
                    headers={"Retry-After": str(decision.retry_after)},
                    retryAfter=decision.retry_after,
                    limit=decision.limit,
                    reason="PERSISTED_QUERY_QUOTA",
                )
            request.state.apq_pending = (digest, query)  # kept once it has run (process_result)
        return query
