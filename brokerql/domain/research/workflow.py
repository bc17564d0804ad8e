"""B2: the editorial workflow (采编 / 审核 / 发布) as one literal transition table.

    DRAFT --submit--> SUBMITTED --approve--> APPROVED --publish--> PUBLISHED --withdraw--> WITHDRAWN
                                 --reject--> REJECTED --submit--> SUBMITTED (after a revision)

Each transition names the roles that own it. Editors write and submit; a reviewer approves or rejects,
except risk-control information (风控资讯), which only the RISK role approves or rejects; editors
publish approved articles and withdraw published ones. ADMIN holds every permission of the back office
(domain/identity/roles.py), so it appears in every row. Publishing with a future time schedules the
article (it stays APPROVED with a due time) and the scheduler publishes it when due.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from brokerql.domain.common import Rejection
from brokerql.domain.identity.roles import Role


class ArticleStatus(StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    PUBLISHED = "PUBLISHED"
    WITHDRAWN = "WITHDRAWN"


class Action(StrEnum):
    SUBMIT = "SUBMIT"
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    PUBLISH = "PUBLISH"
    WITHDRAW = "WITHDRAW"


class ArticleEventKind(StrEnum):
    """The typed events of an article's history (article_event rows)."""

    CREATED = "CREATED"
    REVISED = "REVISED"
    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    SCHEDULED = "SCHEDULED"
    PUBLISHED = "PUBLISHED"
    WITHDRAWN = "WITHDRAWN"


S, A, R = ArticleStatus, Action, Role
EDITORS = frozenset({R.EDITOR, R.ADMIN})
REVIEWERS = frozenset({R.REVIEWER, R.ADMIN})
RISK_REVIEWERS = frozenset({R.RISK, R.ADMIN})


@dataclass(frozen=True, slots=True)
class Transition:
    to: ArticleStatus
    owners: frozenset[Role]  # who may make it (ordinary columns)
    risk_owners: frozenset[Role]  # who may make it for risk-control information
    event: ArticleEventKind


# (from, action) -> transition. Anything not listed is refused.
TRANSITIONS: Mapping[tuple[ArticleStatus, Action], Transition] = {
    (S.DRAFT, A.SUBMIT): Transition(S.SUBMITTED, EDITORS, EDITORS, ArticleEventKind.SUBMITTED),
    (S.REJECTED, A.SUBMIT): Transition(S.SUBMITTED, EDITORS, EDITORS, ArticleEventKind.SUBMITTED),
    (S.SUBMITTED, A.APPROVE): Transition(S.APPROVED, REVIEWERS, RISK_REVIEWERS, ArticleEventKind.APPROVED),
    (S.SUBMITTED, A.REJECT): Transition(S.REJECTED, REVIEWERS, RISK_REVIEWERS, ArticleEventKind.REJECTED),
    (S.APPROVED, A.PUBLISH): Transition(S.PUBLISHED, EDITORS, EDITORS, ArticleEventKind.PUBLISHED),
    (S.PUBLISHED, A.WITHDRAW): Transition(S.WITHDRAWN, EDITORS, EDITORS, ArticleEventKind.WITHDRAWN),
}

# Content may be revised by an editor while it is still being written or after a rejection; a published
# article is corrected by its feed (a re-import), which keeps it published and records the revision.
EDITABLE = frozenset({S.DRAFT, S.REJECTED})


@dataclass(frozen=True, slots=True)
class Decision:
    """An allowed transition: the new status and the event to record."""

    to: ArticleStatus
    event: ArticleEventKind


def decide(
    status: ArticleStatus | str, action: Action, roles: Iterable[Role | str], *, risk_control: bool
) -> Decision | Rejection:
    """Whether an operator with `roles` may apply `action` to an article in `status`.

    Rejections: INVALID_TRANSITION (no such arrow from this status) and NOT_YOUR_ROLE (the arrow exists
    but belongs to another role)."""
    current = ArticleStatus(status)
    transition = TRANSITIONS.get((current, action))
    if transition is None:
        return Rejection("INVALID_TRANSITION", f"A {current.value} article cannot be {_past(action)}.", "id")
    owners = transition.risk_owners if risk_control else transition.owners
    held = {r for r in (_role(n) for n in roles) if r is not None}
    if not held & owners:
        who = " or ".join(sorted(r.value for r in owners))
        return Rejection("NOT_YOUR_ROLE", f"Only {who} may {action.value.lower()} this article.", "id")
    return Decision(transition.to, transition.event)


def _role(name: Role | str) -> Role | None:
    try:
        return Role(name)
    except ValueError:
        return None


def _past(action: Action) -> str:
    return {A.SUBMIT: "submitted", A.APPROVE: "approved", A.REJECT: "rejected", A.PUBLISH: "published"}.get(
        action, "withdrawn"
    )
