"""A5 role matrix and the F2 client-version gate."""

from __future__ import annotations

import pytest

from brokerql.domain.identity.roles import (
    ROLE_PERMISSIONS,
    Permission,
    Role,
    has_permission,
    is_version_allowed,
    parse_version,
)

# The reviewed table, written out independently of the code: X = allowed. Any change to
# ROLE_PERMISSIONS must change this table too, on purpose.
#                      ADMIN EDITOR REVIEWER RISK OPS BRANCH_MANAGER
MATRIX_TEXT = """
clients.read           X     .      .        X    .   X
clients.write          X     .      .        .    .   X
tiers.edit             X     .      .        .    .   .
grading.edit           X     .      .        .    .   .
grading.run            X     .      .        .    .   X
levels.force           X     .      .        .    .   X
articles.edit          X     X      .        .    .   .
articles.review        X     .      X        .    .   .
articles.publish       X     X      .        .    .   .
risk_info.review       X     .      .        X    .   .
params.edit            X     .      .        .    .   .
dictionary.edit        X     .      .        .    .   .
operators.manage       X     .      .        .    .   .
logs.read              X     .      .        X    X   .
services.manage        X     .      .        .    X   .
servers.manage         X     .      .        .    X   .
monitor.read           X     .      .        .    X   .
monitor.control        X     .      .        .    X   .
api_clients.manage     X     .      .        .    X   .
futures.settle         X     .      .        X    .   .
"""
COLUMNS = [Role.ADMIN, Role.EDITOR, Role.REVIEWER, Role.RISK, Role.OPS, Role.BRANCH_MANAGER]


def _matrix() -> dict[tuple[Role, Permission], bool]:
    table = {}
    for line in MATRIX_TEXT.strip().splitlines():
        name, *marks = line.split()
        assert len(marks) == len(COLUMNS), line
        for role, mark in zip(COLUMNS, marks, strict=True):
            table[(role, Permission(name))] = mark == "X"
    return table


MATRIX = _matrix()


def test_table_covers_every_role_and_permission() -> None:
    assert {p for _, p in MATRIX} == set(Permission)
    assert set(COLUMNS) == set(Role) == set(ROLE_PERMISSIONS)


def test_every_permission_for_every_role_matches_the_table() -> None:
    unexpected_allows = [(r, p) for (r, p), allowed in MATRIX.items() if has_permission([r], p) and not allowed]
    missing_allows = [(r, p) for (r, p), allowed in MATRIX.items() if allowed and not has_permission([r], p)]
    assert unexpected_allows == []
    assert missing_allows == []


def test_admin_has_everything() -> None:
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)


def test_roles_combine_and_unknown_names_deny() -> None:
    assert has_permission([Role.EDITOR, Role.REVIEWER], "articles.publish")
    assert has_permission(["EDITOR", "OPS"], Permission.MONITOR_CONTROL)
    assert not has_permission([], Permission.CLIENTS_READ)
    assert not has_permission(["SUPERUSER"], Permission.CLIENTS_READ)
    assert not has_permission([Role.ADMIN], "clients.delete")


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("1.2.3", (1, 2, 3)),
        ("1.2", (1, 2, 0)),
        ("3", (3, 0, 0)),
        ("v2.10.0", (2, 10, 0)),
        (" 1.0.1 ", (1, 0, 1)),
    ],
)
def test_parse_version(text: str, parsed: tuple[int, int, int]) -> None:
    assert parse_version(text) == parsed


@pytest.mark.parametrize("text", ["", "1.2.3.4", "1.2.3-beta", "a.b.c", "1..2", "1234567.0.0", "１.２.３"])
def test_parse_version_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_version(text)


def test_version_gate() -> None:
    assert is_version_allowed("2.4.1", "2.4.0")
    assert is_version_allowed("2.4.0", "2.4")
    assert is_version_allowed("2.10.0", "2.9.9")  # numeric, not string, comparison
    assert not is_version_allowed("2.3.9", "2.4.0")
    assert not is_version_allowed("garbage", "0.0.1")


def test_missing_version_is_refused_unless_configured() -> None:
    assert not is_version_allowed(None, "1.0.0")
    assert not is_version_allowed("  ", "1.0.0")
    assert is_version_allowed(None, "1.0.0", allow_missing=True)
