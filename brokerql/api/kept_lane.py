"""The kept-answer lane: a market read already answered for the current snapshot, served over HTTP
without strawberry's view.

A `quote` query's answer is kept per snapshot (schema/read_cache.py). Once it is, strawberry's view
still spends more CPU around the answer than producing it did: the request adapter, the execution
context, and four extensions' hooks for an operation that no longer executes (docs/performance.md,
"Target 2"). This lane answers such a request with the same checks, in the same order, through the
same functions as the full path, and nothing else:

1. the body is a JSON object of `query`, `variables` and `operationName` only, on a POST with a bearer
   token (anything else: persisted queries, uploads, GET, anonymous callers, takes the full path);
2. the operation guard admitted this document with these variables before (`guard.admitted`: its
   caches of limits, cost and validation; nothing is checked here that it did not decide) and the
   read cache judged it keepable (`AnswerCache.known_keepable`);
3. the view's context, as the full path builds it: the session's idle lock and activity, the A4
   request count (RATE_LIMITED is raised from here exactly as there);
4. the caller's entitlements, and an answer kept for them and the current snapshots;
5. the caller's cost budget (`guard.charge`), then metrics and the log line's fields.

Any step that does not hold hands the request to the full path, which then reuses the context built
in step 3 (the view's `get_context` returns it): nothing with an effect runs twice. Before step 5
nothing here has an effect but step 3's, and a refused charge pours nothing, so the full path charges
again and answers the refusal itself. An answer from here is the full path's answer for the same
request, body and headers (tests/api/test_kept_lane.py compares them).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from strawberry.http.parse_content_type import parse_content_type
from strawberry.types import ExecutionResult
from strawberry.utils.operation import get_first_operation

from brokerql.monitor import prometheus
from brokerql.monitor.extension import figures_of, record, root_field_of
from brokerql.schema.document_cache import cached_document
from brokerql.schema.entitlements import held_entitlements
from brokerql.schema.guard import admitted, bind_caller, charge, cost_report
from brokerql.schema.read_cache import answer_key
from brokerql.schema.scalars import nul_refusal

if TYPE_CHECKING:
    from brokerql.schema.cost import Measure

JSON = "application/json"
ASKED_KEYS = frozenset({"query", "variables", "operationName"})


def asked(body: bytes) -> tuple[str, str | None, dict[str, Any]] | None:
    """The query, operation name and variables of a plain JSON request body; None for anything else."""
    try:
        data = json.loads(body.decode("utf-8"))  # strictly UTF-8, as the full path reads it
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    if not isinstance(data, dict) or not data.keys() <= ASKED_KEYS:
        return None
    query, operation_name, variables = data.get("query"), data.get("operationName"), data.get("variables")
    if not isinstance(query, str) or not isinstance(operation_name, str | None):
        return None
    if not isinstance(variables, dict | None):
        return None
    return query, operation_name, variables or {}


class View(Protocol):
    """What the lane takes from the HTTP view (api/http_view.py): its parts and the full path's steps."""

    edge: Any
    schema: Any

    async def get_sub_response(self, request: Request) -> Response: ...

    async def get_context(self, request: Request, response: Response) -> Any: ...

    async def process_result(self, request: Request, result: ExecutionResult) -> Any: ...

    def create_response(self, response_data: Any, sub_response: Response) -> Response: ...


class KeptAnswerLane:
    """One view's lane (see the module)."""

    def __init__(self, view: View) -> None:
        self.view, self.edge = view, view.edge
        self.schema = view.schema

    async def answer(self, request: Request) -> Response | None:
        """The response for a request this lane can answer, else None (the full path answers it)."""
        started = time.perf_counter()
        wanted = await self._wanted(request)
        if wanted is None:
            return None
        query, operation_name, variables, document, measured = wanted
        view = self.view
        sub_response = await view.get_sub_response(request)
        context = await view.get_context(request, sub_response)
        try:
            held = await held_entitlements(context)
        except Exception:  # a bad token, a locked or ended session: the full path reports it
            return None
        key = answer_key(query, operation_name, variables, held)
        data = self.schema.kept_answers.current(key, context.container.market) if key is not None else None
        if data is None:
            return None
        report = cost_report(measured, self.schema.limits)
        try:
            await charge(self.edge, context, report)
        except Exception:  # a refused charge pours nothing: the full path charges again and answers it
            return None
        self._record(context, document, operation_name, time.perf_counter() - started)
        result = ExecutionResult(data=data, errors=None, extensions={"cost": report})
        return view.create_response(await view.process_result(request, result), sub_response)

    async def _wanted(self, request: Request) -> tuple[str, str | None, dict[str, Any], Any, Measure] | None:
        """The request's query, operation name (as strawberry resolves it), variables, parsed document and
        measure, when the guard admitted it and the read cache keeps its answers."""
        headers = request.headers
        if request.method != "POST" or not headers.get("authorization") or self.edge.persisted_only:
            return None
        content_type = headers.get("content-type") or ""
        if content_type != JSON and parse_content_type(content_type)[0] != JSON:  # the parse is 3% of a request
            return None
        declared = headers.get("content-length") or ""  # a body over the limit, or chunked, is the full
        if not declared.isdigit() or int(declared) > self.edge.limits.max_body_bytes:  # path's to refuse
            return None
        found = asked(await request.body())
        if found is None:
            return None
        query, operation_name, variables = found
        schema = self.schema
        document = cached_document(query, schema.limits.max_tokens)
        if document is None:
            return None
        if operation_name is None:  # the one operation's own name, as the execution context names it
            first = get_first_operation(document)
            operation_name = first.name.value if first is not None and first.name is not None else None
        if not schema.kept_answers.known_keepable(query, operation_name) or nul_refusal(query, variables):
            return None
        measured = admitted(schema._schema, query, schema.limits, operation_name, variables, self.edge.production)
        return None if measured is None else (query, operation_name, variables, document, measured)

    def _record(self, context: Any, document: Any, operation_name: str | None, seconds: float) -> None:
        """What the full path's guard, read cache and metrics extensions record for a kept answer."""
        prometheus.READ_CACHE.labels("hit").inc()
        bind_caller(self.edge, context, operation_name)
        record(figures_of(context), root_field_of(self.schema._schema, document, operation_name), "query", [], seconds)
