"""B2: the editorial transition table, checked arrow by arrow and role by role."""

from __future__ import annotations

import pytest

from brokerql.domain.common import Rejection
from brokerql.domain.identity.roles import Role
from brokerql.domain.research.workflow import TRANSITIONS, Action, ArticleEventKind, ArticleStatus, Decision, decide

S, A, R = ArticleStatus, Action, Role
# The reviewed table, written out independently of the code: (from, action) -> (to, who may, who may for 风控资讯)
EXPECTED = {
    (S.DRAFT, A.SUBMIT): (S.SUBMITTED, {R.EDITOR, R.ADMIN}, {R.EDITOR, R.ADMIN}),
    (S.REJECTED, A.SUBMIT): (S.SUBMITTED, {R.EDITOR, R.ADMIN}, {R.EDITOR, R.ADMIN}),
    (S.SUBMITTED, A.APPROVE): (S.APPROVED, {R.REVIEWER, R.ADMIN}, {R.RISK, R.ADMIN}),
    (S.SUBMITTED, A.REJECT): (S.REJECTED, {R.REVIEWER, R.ADMIN}, {R.RISK, R.ADMIN}),
    (S.APPROVED, A.PUBLISH): (S.PUBLISHED, {R.EDITOR, R.ADMIN}, {R.EDITOR, R.ADMIN}),
    (S.PUBLISHED, A.WITHDRAW): (S.WITHDRAWN, {R.EDITOR, R.ADMIN}, {R.EDITOR, R.ADMIN}),
}


def test_the_table_is_exactly_the_reviewed_one() -> None:
    assert set(TRANSITIONS) == set(EXPECTED)
    for key, (to, owners, risk_owners) in EXPECTED.items():
        assert (TRANSITIONS[key].to, TRANSITIONS[key].owners, TRANSITIONS[key].risk_owners) == (to, owners, risk_owners)


@pytest.mark.parametrize("risk", [False, True])
@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(A))
@pytest.mark.parametrize("role", list(R))
def test_each_role_may_make_only_its_own_transitions(
    role: Role, action: Action, status: ArticleStatus, risk: bool
) -> None:
    result = decide(status, action, [role], risk_control=risk)
    expected = EXPECTED.get((status, action))
    if expected is None:
        assert isinstance(result, Rejection) and result.code == "INVALID_TRANSITION"
        return
    owners = expected[2] if risk else expected[1]
    if role in owners:
        assert isinstance(result, Decision) and result.to is expected[0]
    else:
        assert isinstance(result, Rejection) and result.code == "NOT_YOUR_ROLE"


def test_events_name_the_transition() -> None:
    assert decide(S.DRAFT, A.SUBMIT, ["EDITOR"], risk_control=False) == Decision(
        S.SUBMITTED, ArticleEventKind.SUBMITTED
    )
    assert decide(S.APPROVED, A.PUBLISH, ["EDITOR"], risk_control=True) == Decision(
        S.PUBLISHED, ArticleEventKind.PUBLISHED
    )


def test_a_reviewer_cannot_approve_risk_control_information_and_unknown_roles_grant_nothing() -> None:
    refused = decide(S.SUBMITTED, A.APPROVE, ["REVIEWER"], risk_control=True)
    assert isinstance(refused, Rejection) and refused.code == "NOT_YOUR_ROLE" and "RISK" in refused.message
    assert isinstance(decide(S.SUBMITTED, A.APPROVE, ["SUPERUSER"], risk_control=False), Rejection)
