"""A5 operator roles and permissions, plus (re-exported) the F2 client-version gate.

Every back-office operation names one :class:`Permission`; an operator holds one or more
:class:`Role` values and may act if any role grants the permission. ADMIN holds every permission.
The table is deliberately explicit, one frozenset per role, so a review sees exactly who can do what.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from brokerql.domain.identity.client_version import is_version_allowed, parse_version

__all__ = ["ROLE_PERMISSIONS", "Permission", "Role", "has_permission", "is_version_allowed", "parse_version"]


class Role(StrEnum):
    """Operator roles."""

    ADMIN = "ADMIN"
    EDITOR = "EDITOR"  # collects and edits articles (采编)
    REVIEWER = "REVIEWER"  # reviews articles (审核); editors publish what was approved (发布)
    RISK = "RISK"  # risk officer: reviews risk-control information, watches client logins
    OPS = "OPS"  # operations: servers, services, monitoring, API clients
    BRANCH_MANAGER = "BRANCH_MANAGER"  # 营业部: manages the branch's clients and their levels


class Permission(StrEnum):
    """One permission per back-office operation."""

    CLIENTS_READ = "clients.read"
    CLIENTS_WRITE = "clients.write"
    TIERS_EDIT = "tiers.edit"
    GRADING_EDIT = "grading.edit"
    GRADING_RUN = "grading.run"
    LEVELS_FORCE = "levels.force"
    ARTICLES_EDIT = "articles.edit"
    ARTICLES_REVIEW = "articles.review"
    ARTICLES_PUBLISH = "articles.publish"
    RISK_INFO_REVIEW = "risk_info.review"
    PARAMS_EDIT = "params.edit"
    DICTIONARY_EDIT = "dictionary.edit"
    OPERATORS_MANAGE = "operators.manage"
    LOGS_READ = "logs.read"
    SERVICES_MANAGE = "services.manage"
    SERVERS_MANAGE = "servers.manage"
    MONITOR_READ = "monitor.read"
    MONITOR_CONTROL = "monitor.control"
    API_CLIENTS_MANAGE = "api_clients.manage"
    FUTURES_SETTLE = "futures.settle"


_P = Permission

# Configuration that changes what every client gets (tiers, grading model, parameters, dictionary,
# operators) stays with ADMIN alone. Editors publish, but only what a reviewer (or RISK) approved: review
# is a second pair of eyes (B2), enforced by the transition table in domain/research/workflow.py.
# Risk officers read client logs because lockouts and failed logins are their signal; they also run the
# daily futures settlement (settleFutures), which moves clients' cash by the variation margin.
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.EDITOR: frozenset({_P.ARTICLES_EDIT, _P.ARTICLES_PUBLISH}),
    Role.REVIEWER: frozenset({_P.ARTICLES_REVIEW}),
    Role.RISK: frozenset({_P.RISK_INFO_REVIEW, _P.CLIENTS_READ, _P.LOGS_READ, _P.FUTURES_SETTLE}),
    Role.OPS: frozenset(
        {
            _P.SERVICES_MANAGE,
            _P.SERVERS_MANAGE,
            _P.MONITOR_READ,
            _P.MONITOR_CONTROL,
            _P.LOGS_READ,
            _P.API_CLIENTS_MANAGE,
        }
    ),
    Role.BRANCH_MANAGER: frozenset({_P.CLIENTS_READ, _P.CLIENTS_WRITE, _P.GRADING_RUN, _P.LEVELS_FORCE}),
}


def has_permission(roles: Iterable[Role | str], permission: Permission | str) -> bool:
    """Whether any of ``roles`` grants ``permission``. Unknown role or permission names deny."""
    try:
        wanted = Permission(permission)
    except ValueError:
        return False
    for name in roles:
        try:
            role = Role(name)
        except ValueError:
            continue  # a role removed from the code but left in the database grants nothing
        if wanted in ROLE_PERMISSIONS.get(role, frozenset()):
            return True
    return False
