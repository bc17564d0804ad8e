"""Back-office reads and writes (A5, A1 for operators, C10, F1): a permission check, then one service call."""

from __future__ import annotations

import strawberry

from brokerql.domain.identity.roles import Permission as P
from brokerql.resolvers.guards import require_operator
from brokerql.schema.errors import UserError, not_found
from brokerql.schema.types.backoffice import (
    ApiClient,
    ApiClientPayload,
    BookableService,
    BookableServiceInput,
    ClientFilterInput,
    DictionaryEntry,
    OperatorLogEntry,
    OperatorPayload,
    Server,
    ServerInput,
    ServerPayload,
    ServiceBooking,
    ServicePayload,
    SystemParameter,
    SystemParameterPayload,
    UpdateClientInput,
)
from brokerql.schema.types.client import Branch, Client
from brokerql.schema.types.identity import ClientLogEntry, ClientPayload, Operator, ResultPayload
from brokerql.schema.types.onboarding import (
    CreateClientInput,
    CreateClientPayload,
    OpenAccountInput,
    OpenAccountPayload,
)
from brokerql.schema.types.paging import Connection, connection, page
from brokerql.schema.types.trading import Account
from brokerql.services.identity.clients import ClientFilter, ProfileChanges


def _errors(errors: list) -> list[UserError]:  # type: ignore[type-arg]
    return [UserError.of(e) for e in errors]


def _svc(info: strawberry.Info):  # type: ignore[no-untyped-def]
    return info.context.container.identity


# -- clients (A1) ----------------------------------------------------------------------------------------
async def clients(
    info: strawberry.Info, filter: ClientFilterInput | None = None, first: int | None = None, after: str | None = None
) -> Connection[Client]:
    await require_operator(info, P.CLIENTS_READ)
    request = page("clients", first, after)
    f = filter or ClientFilterInput()
    flt = ClientFilter(f.tier, str(f.branch_id) if f.branch_id else None, f.status, f.risk_level, f.search)
    rows = await _svc(info).clients.search(flt, request.after_key, request.fetch)
    return connection("clients", rows, request, lambda r: r.id, Client.from_row)


async def client(info: strawberry.Info, id: strawberry.ID) -> Client:
    await require_operator(info, P.CLIENTS_READ)
    row = await _svc(info).clients.get(str(id))
    if row is None:
        raise not_found("Client")
    return Client.from_row(row)


async def branches(info: strawberry.Info) -> list[Branch]:
    await require_operator(info)
    return [Branch.from_row(r) for r in await _svc(info).clients.branches()]


async def update_client(info: strawberry.Info, client_id: strawberry.ID, input: UpdateClientInput) -> ClientPayload:
    op = await require_operator(info, P.CLIENTS_WRITE)
    values = {k: v for k, v in vars(input).items() if not k.startswith("_")}
    for key in ("branch_id", "manager_id"):
        values[key] = str(values[key]) if values[key] is not None else None
    row, errors = await _svc(info).clients.update(str(client_id), ProfileChanges(**values), operator_id=op.subject_id)
    return ClientPayload(client=Client.from_row(row) if row else None, errors=_errors(errors))


async def unlock_client_login(info: strawberry.Info, client_id: strawberry.ID) -> ResultPayload:
    op = await require_operator(info, P.CLIENTS_WRITE)
    errors = await _svc(info).clients.unlock_login(op.subject_id, str(client_id))
    return ResultPayload(ok=not errors, errors=_errors(errors))


async def revoke_client_sessions(info: strawberry.Info, client_id: strawberry.ID) -> ResultPayload:
    op = await require_operator(info, P.CLIENTS_WRITE)
    await _svc(info).clients.revoke_sessions(op.subject_id, str(client_id))
    return ResultPayload(ok=True, errors=[])


async def client_log(
    info: strawberry.Info,
    client_id: strawberry.ID | None = None,
    event: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[ClientLogEntry]:
    await require_operator(info, P.LOGS_READ)
    request = page("client-log", first, after)
    rows = await _svc(info).clients.log(str(client_id) if client_id else None, event, request.after_key, request.fetch)
    return connection("client-log", rows, request, lambda r: r.id, ClientLogEntry.from_row)


# -- onboarding (A1): how production gets its clients ---------------------------------------------------
async def create_client(info: strawberry.Info, input: CreateClientInput) -> CreateClientPayload:
    op = await require_operator(info, P.CLIENTS_WRITE)
    row, password, errors = await _svc(info).onboarding.create_client(
        op.subject_id, input.username, input.name, input.tier, input.password
    )
    client = Client.from_row(row) if row else None
    return CreateClientPayload(client=client, initial_password=password, errors=_errors(errors))


async def open_account(info: strawberry.Info, input: OpenAccountInput) -> OpenAccountPayload:
    op = await require_operator(info, P.CLIENTS_WRITE)
    state, errors = await _svc(info).onboarding.open_account(
        op.subject_id, str(input.client_id), input.type.value, input.opening_deposit
    )
    return OpenAccountPayload(account=Account.of(state) if state else None, errors=_errors(errors))


# -- operators -------------------------------------------------------------------------------------------
async def current_operator(info: strawberry.Info) -> Operator:
    op = await require_operator(info)
    row = await _svc(info).operators.get(op.subject_id)
    if row is None:
        raise not_found("Operator")
    return Operator.from_row(row)


async def operators(info: strawberry.Info) -> list[Operator]:
    await require_operator(info, P.OPERATORS_MANAGE)
    return [Operator.from_row(r) for r in await _svc(info).operators.list()]


async def create_operator(
    info: strawberry.Info, username: str, name: str, password: str, roles: list[str]
) -> OperatorPayload:
    op = await require_operator(info, P.OPERATORS_MANAGE)
    row, errors = await _svc(info).operators.create(op.subject_id, username, name, password, roles)
    return OperatorPayload(operator=Operator.from_row(row) if row else None, errors=_errors(errors))


async def set_operator_roles(info: strawberry.Info, operator_id: strawberry.ID, roles: list[str]) -> OperatorPayload:
    op = await require_operator(info, P.OPERATORS_MANAGE)
    row, errors = await _svc(info).operators.set_roles(op.subject_id, str(operator_id), roles)
    return OperatorPayload(operator=Operator.from_row(row) if row else None, errors=_errors(errors))


async def operator_log(
    info: strawberry.Info,
    operator_id: strawberry.ID | None = None,
    action: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[OperatorLogEntry]:
    await require_operator(info, P.LOGS_READ)
    request = page("operator-log", first, after)
    backoffice = _svc(info).backoffice
    rows = await backoffice.operator_log(
        str(operator_id) if operator_id else None, action, request.after_key, request.fetch
    )
    return connection("operator-log", rows, request, lambda r: r.id, OperatorLogEntry.from_row)


# -- parameters, dictionary --------------------------------------------------------------------------------
async def system_parameters(info: strawberry.Info) -> list[SystemParameter]:
    await require_operator(info, P.PARAMS_EDIT)
    return [SystemParameter.from_row(r) for r in await _svc(info).backoffice.parameters()]


async def set_system_parameter(info: strawberry.Info, key: str, value: str) -> SystemParameterPayload:
    op = await require_operator(info, P.PARAMS_EDIT)
    row, errors = await _svc(info).backoffice.set_parameter(op.subject_id, key, value)
    return SystemParameterPayload(parameter=SystemParameter.from_row(row) if row else None, errors=_errors(errors))


async def dictionary(info: strawberry.Info, category: str | None = None) -> list[DictionaryEntry]:
    return [DictionaryEntry.from_row(r) for r in await _svc(info).backoffice.dictionary(category)]


async def upsert_dictionary_entry(
    info: strawberry.Info, category: str, code: str, label: str, sort_order: int = 0, enabled: bool = True
) -> DictionaryEntry:
    op = await require_operator(info, P.DICTIONARY_EDIT)
    row = await _svc(info).backoffice.upsert_dictionary(op.subject_id, category, code, label, sort_order, enabled)
    return DictionaryEntry.from_row(row)


# -- services, servers, API clients -----------------------------------------------------------------------
async def bookable_services(info: strawberry.Info, include_disabled: bool = False) -> list[BookableService]:
    if include_disabled:
        await require_operator(info, P.SERVICES_MANAGE)
    return [BookableService.from_row(r) for r in await _svc(info).backoffice.services(not include_disabled)]


async def upsert_bookable_service(info: strawberry.Info, input: BookableServiceInput) -> ServicePayload:
    op = await require_operator(info, P.SERVICES_MANAGE)
    row, errors = await _svc(info).backoffice.upsert_service(
        op.subject_id, input.code, input.name, input.description, input.min_tier, input.enabled
    )
    return ServicePayload(service=BookableService.from_row(row) if row else None, errors=_errors(errors))


async def book_service(info: strawberry.Info, service_code: str, note: str = "") -> ResultPayload:
    principal = info.context.require_client()
    _row, errors = await _svc(info).backoffice.book(principal.subject_id, service_code, note)
    return ResultPayload(ok=not errors, errors=_errors(errors))


async def my_bookings(
    info: strawberry.Info, first: int | None = None, after: str | None = None
) -> Connection[ServiceBooking]:
    principal = info.context.require_client()
    request = page("bookings", first, after)
    rows = await _svc(info).backoffice.bookings(principal.subject_id, None, request.after_key, request.fetch)
    return connection("bookings", rows, request, lambda r: r.id, ServiceBooking.from_row)


async def service_bookings(
    info: strawberry.Info,
    client_id: strawberry.ID | None = None,
    service_code: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[ServiceBooking]:
    await require_operator(info, P.CLIENTS_READ)
    request = page("bookings", first, after)
    who = str(client_id) if client_id else None
    rows = await _svc(info).backoffice.bookings(who, service_code, request.after_key, request.fetch)
    return connection("bookings", rows, request, lambda r: r.id, ServiceBooking.from_row)


async def servers(info: strawberry.Info, include_disabled: bool = False) -> list[Server]:
    if include_disabled:
        await require_operator(info, P.SERVERS_MANAGE)
    return [Server.from_row(r) for r in await _svc(info).backoffice.servers(not include_disabled)]


async def upsert_server(info: strawberry.Info, input: ServerInput) -> ServerPayload:
    op = await require_operator(info, P.SERVERS_MANAGE)
    row, errors = await _svc(info).backoffice.upsert_server(
        op.subject_id, str(input.id) if input.id else None, input.name, input.url, input.region, input.kinds,
        input.weight, input.enabled,
    )  # fmt: skip
    return ServerPayload(server=Server.from_row(row) if row else None, errors=_errors(errors))


async def api_clients(info: strawberry.Info) -> list[ApiClient]:
    await require_operator(info, P.API_CLIENTS_MANAGE)
    return [ApiClient.from_row(r) for r in await _svc(info).backoffice.api_clients()]


async def create_api_client(info: strawberry.Info, name: str, scopes: list[str]) -> ApiClientPayload:
    op = await require_operator(info, P.API_CLIENTS_MANAGE)
    row, secret, errors = await _svc(info).backoffice.create_api_client(op.subject_id, name, scopes)
    return ApiClientPayload(
        api_client=ApiClient.from_row(row) if row else None, client_secret=secret or None, errors=_errors(errors)
    )


async def revoke_api_client(info: strawberry.Info, client_id: str) -> ResultPayload:
    op = await require_operator(info, P.API_CLIENTS_MANAGE)
    errors = await _svc(info).backoffice.revoke_api_client(op.subject_id, client_id)
    return ResultPayload(ok=not errors, errors=_errors(errors))
