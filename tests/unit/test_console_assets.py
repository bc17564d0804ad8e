"""The consoles' assets: vendored files intact with their licences, pages that load nothing from the
internet, and example operations that are valid against the schema."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from graphql import parse, validate

from brokerql.schema import build_schema

STATIC = Path(__file__).resolve().parents[2] / "brokerql" / "api" / "static"


def test_vendored_files_match_their_checksums_and_carry_licences() -> None:
    vendor = STATIC / "vendor"
    for line in (vendor / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == digest, name
    licences = {p.name for p in (vendor / "licenses").iterdir()}
    assert {"react.LICENSE", "react-dom.LICENSE", "graphiql.LICENSE", "plugin-explorer.LICENSE"} <= licences


def test_pages_load_only_local_assets() -> None:
    for page in ("graphiql.html", "ops.html"):
        html = (STATIC / page).read_text()
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources and all(s.startswith(("/static/", "data:")) for s in sources), (page, sources)


def test_graphiql_examples_are_valid_operations() -> None:
    schema = build_schema()._schema
    examples = json.loads((STATIC / "graphiql-examples.json").read_text())
    assert len(examples) >= 10
    for example in examples:
        errors = validate(schema, parse(example["query"]))
        assert errors == [], (example["area"], errors)
