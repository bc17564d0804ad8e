"""The back-office (A5), client administration (A1), tiers and grading (A2-A4) part of the root types."""

from __future__ import annotations

import strawberry

from brokerql.resolvers import backoffice as b
from brokerql.resolvers import grading as g
from brokerql.schema.arguments import describe_arguments
from brokerql.schema.types.backoffice import (
    ApiClient,
    ApiClientPayload,
    BookableService,
    DictionaryEntry,
    OperatorLogEntry,
    OperatorPayload,
    Server,
    ServerPayload,
    ServiceBooking,
    ServicePayload,
    SystemParameter,
    SystemParameterPayload,
)
from brokerql.schema.types.client import Branch, Client, Tier
from brokerql.schema.types.grading import (
    BrowsingRecord,
    DimensionImportPayload,
    GradingModel,
    GradingModelPayload,
    GradingResult,
    GradingRun,
    LevelApplication,
    LevelApplicationPayload,
    LevelChange,
)
from brokerql.schema.types.identity import ClientLogEntry, ClientPayload, Operator, ResultPayload
from brokerql.schema.types.onboarding import CreateClientPayload, OpenAccountPayload
from brokerql.schema.types.paging import Connection


def _q(resolver, description: str):  # type: ignore[no-untyped-def]
    return strawberry.field(resolver=resolver, description=description)


def _m(resolver, description: str):  # type: ignore[no-untyped-def]
    return strawberry.mutation(resolver=resolver, description=description)


@strawberry.type(description="Back-office reads.")
class BackOfficeQuery:
    clients: Connection[Client] = _q(b.clients, "Operators: clients by filter, Relay-paginated (clients.read).")
    client: Client = _q(b.client, "Operators: one client (clients.read).")
    branches: list[Branch] = _q(b.branches, "Operators: the branches (营业部).")
    current_operator: Operator = _q(b.current_operator, "The logged-in operator.")
    operators: list[Operator] = _q(b.operators, "Operators and their roles (operators.manage).")
    operator_log: Connection[OperatorLogEntry] = _q(b.operator_log, "Every operator action, newest first (logs.read).")
    client_log: Connection[ClientLogEntry] = _q(b.client_log, "Client logins, failures, locks (logs.read).")
    system_parameters: list[SystemParameter] = _q(b.system_parameters, "Run-time parameters (params.edit).")
    dictionary: list[DictionaryEntry] = _q(b.dictionary, "The data dictionary (public): code lists by category.")
    bookable_services: list[BookableService] = _q(
        b.bookable_services, "Bookable services (public); includeDisabled needs services.manage."
    )
    my_bookings: Connection[ServiceBooking] = _q(b.my_bookings, "Your service bookings, newest first.")
    service_bookings: Connection[ServiceBooking] = _q(
        b.service_bookings, "Operators: every service booking, newest first, by client or service (clients.read)."
    )
    servers: list[Server] = _q(b.servers, "Servers to probe (C10, public); includeDisabled needs servers.manage.")
    api_clients: list[ApiClient] = _q(b.api_clients, "Registered partner applications (api_clients.manage).")
    grading_model: GradingModel = _q(g.grading_model, "The grading model (grading.run).")
    latest_grading_run: GradingRun | None = _q(g.latest_grading_run, "The most recent grading run (grading.run).")
    grading_results: Connection[GradingResult] = _q(
        g.grading_results, "A3 lists: a run's results by status, each with its explanation (grading.run)."
    )
    level_applications: Connection[LevelApplication] = _q(g.level_applications, "Applications (levels.force).")
    level_history: Connection[LevelChange] = _q(g.level_history, "A client's tier changes (clients.read).")
    my_level_history: Connection[LevelChange] = _q(g.my_level_history, "Your own tier changes.")
    browsing_records: Connection[BrowsingRecord] = _q(g.browsing_records, "What a client viewed (clients.read).")


@strawberry.type(description="Back-office writes; each is recorded in the operator log.")
class BackOfficeMutation:
    update_client: ClientPayload = _m(b.update_client, "Change a client's profile (clients.write).")
    unlock_client_login: ResultPayload = _m(b.unlock_client_login, "Lift a client's login lock (clients.write).")
    revoke_client_sessions: ResultPayload = _m(
        b.revoke_client_sessions, "End every session of a client at once, open streams too (clients.write)."
    )
    create_client: CreateClientPayload = _m(
        b.create_client, "Create a client in a trading tier, with its initial password (clients.write)."
    )
    open_account: OpenAccountPayload = _m(
        b.open_account, "Open a trading account for a client, with its opening deposit (clients.write)."
    )
    create_operator: OperatorPayload = _m(b.create_operator, "Add an operator (operators.manage).")
    set_operator_roles: OperatorPayload = _m(b.set_operator_roles, "Change an operator's roles (operators.manage).")
    set_system_parameter: SystemParameterPayload = _m(b.set_system_parameter, "Change a parameter (params.edit).")
    upsert_dictionary_entry: DictionaryEntry = _m(
        b.upsert_dictionary_entry, "Add or change an entry (dictionary.edit)."
    )
    upsert_bookable_service: ServicePayload = _m(b.upsert_bookable_service, "Add or change (services.manage).")
    book_service: ResultPayload = _m(b.book_service, "Book a service (clients).")
    upsert_server: ServerPayload = _m(b.upsert_server, "Add or change a server (servers.manage).")
    create_api_client: ApiClientPayload = _m(b.create_api_client, "Register a partner (api_clients.manage).")
    revoke_api_client: ResultPayload = _m(b.revoke_api_client, "Revoke a partner and its tokens (api_clients.manage).")
    edit_tier: Tier = _m(g.edit_tier, "Grant or revoke a tier's entitlements, change its limits (tiers.edit).")
    set_grading_model: GradingModelPayload = _m(g.set_grading_model, "Replace the grading model (grading.edit).")
    run_grading: GradingRun = _m(
        g.run_grading,
        "Grade every client now from live data (assets at market value, fills, logins, account age) plus "
        "imported dimensions; records each client's assets of the day (grading.run).",
    )
    import_grading_dimensions: DimensionImportPayload = _m(
        g.import_grading_dimensions, "Import dimensions from outside systems, all rows or none (grading.edit)."
    )
    apply_for_level: LevelApplicationPayload = _m(g.apply_for_level, "Apply for a higher tier (clients).")
    decide_level_application: ResultPayload = _m(g.decide_level_application, "Approve or reject (levels.force).")
    force_level: ResultPayload = _m(
        g.force_level,
        "Set a client's tier with a reason (levels.force). It holds: grading runs and due changes leave it "
        "until liftForcedLevel or expiresAt.",
    )
    lift_forced_level: ResultPayload = _m(
        g.lift_forced_level, "End a forced tier's hold; grading treats the client normally again (levels.force)."
    )
    apply_due_level_changes: int = _m(
        g.apply_due_level_changes, "Apply due downgrades and trial expiries of the latest run (grading.run)."
    )


describe_arguments(BackOfficeQuery, BackOfficeMutation)
