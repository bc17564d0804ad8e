"""Every GraphQL operation in the README's tour is valid against the exported schema."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```graphql\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


@pytest.mark.parametrize("operation", BLOCKS, ids=[f"block{i + 1}" for i in range(len(BLOCKS))])
def test_the_readme_tour_runs_against_the_schema(operation: str) -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    assert validate(schema, parse(operation)) == []
