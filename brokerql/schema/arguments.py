"""Argument descriptions for the identity and back-office operations, by argument name.

The same names mean the same thing across these operations (first/after, clientId, input ...), so one
table describes them all; `describe_arguments` fails loudly when an argument has no entry.
"""

from __future__ import annotations

from typing import Any

ARGUMENTS = {
    "first": "Page size, 1 to 100 (default 20).",
    "after": "Continue after this cursor (a previous page's endCursor).",
    "filter": "Only clients matching every given criterion.",
    "id": "The object's id.",
    "client_id": "The client.",
    "operator_id": "The operator.",
    "run_id": "The grading run (default: the latest).",
    "application_id": "The level application.",
    "action": "Only this action, e.g. client.update.",
    "event": "Only this event, e.g. LOGIN_LOCKED.",
    "status": "Only this status.",
    "category": "Only this dictionary list, e.g. risk_level.",
    "include_disabled": "Also list disabled entries (needs the managing permission).",
    "input": "The request.",
    "refresh_token": "Also end the session of this refresh token.",
    "username": "Login name.",
    "phone": "Mainland China mobile number.",
    "code": "The code shown by the authenticator app.",
    "current_password": "Your current password.",
    "new_password": "The new password (8+ characters, 3 character classes).",
    "password": "Your login password.",
    "communication_password": "The communication password (通讯密码).",
    "public_key_pem": "PEM public key or X.509 certificate (Ed25519 or ECDSA P-256).",
    "label": "A name to recognise the key by.",
    "kind": "What was viewed: ARTICLE, COLUMN, INSTRUMENT, SCREEN ...",
    "ref": "Which one (article id, column code, symbol, screen name).",
    "name": "Display name.",
    "roles": "Roles: ADMIN, EDITOR, REVIEWER, RISK, OPS, BRANCH_MANAGER.",
    "key": "Parameter key, e.g. login.lock_after.",
    "value": "New value.",
    "sort_order": "Position in the list.",
    "enabled": "Whether the entry is offered.",
    "service_code": "The bookable service.",
    "note": "A note for the broker.",
    "scopes": "Scopes the API client may request.",
    "tier": "Tier code.",
    "approve": "True to approve, false to reject.",
    "reason": "Why (mandatory for forced changes; kept in the level history).",
    "account_type": "The account type the session should act for.",
    "rows": "The rows to import.",
    "board": "STAR, CHINEXT or HK_CONNECT.",
    "granted": "True to grant, false to withdraw the grant.",
    "expires_at": "When the forced level lapses by itself (default: never; an operator lifts it).",
}

# Where a shared name means something else for one operation (by the field's Python name).
FIELD_ARGUMENTS = {
    ("upsert_dictionary_entry", "code"): "The entry's code, unique within its category (e.g. C3).",
    ("upsert_dictionary_entry", "label"): "The text shown for the code (e.g. 稳健型).",
    ("create_operator", "password"): "The new operator's initial password (8+ characters, 3 character classes).",
    ("set_board_eligibility", "reason"): "Why (the evidence); kept in the operator log.",
    ("lift_forced_level", "reason"): "Why the forced level ends; kept in the operator log.",
    ("upsert_dictionary_entry", "category"): "The dictionary list the entry belongs to, e.g. risk_level.",
    ("revoke_api_client", "client_id"): "The partner application's clientId (as given to POST /oauth/token).",
    ("service_bookings", "client_id"): "Only this client's bookings.",
    ("service_bookings", "service_code"): "Only bookings of this service.",
    ("grading_results", "client_id"): "Only this client's result.",
    ("apply_for_level", "tier"): "The tier you apply for (above your current one).",
    ("force_level", "tier"): "The tier to set.",
}


def describe_arguments(*root_types: Any) -> None:
    """Give every resolver argument of these strawberry types its description from ARGUMENTS."""
    for root in root_types:
        for field in root.__strawberry_definition__.fields:
            for argument in field.arguments:
                if argument.description:
                    continue
                special = FIELD_ARGUMENTS.get((field.python_name, argument.python_name))
                if special is not None:
                    argument.description = special
                    continue
                if argument.python_name not in ARGUMENTS:
                    raise KeyError(f"describe argument {argument.python_name!r} of {root.__name__}.{field.name}")
                argument.description = ARGUMENTS[argument.python_name]
