"""The GraphQL schema: the root types and `build_schema` are in `brokerql.schema.root`.

They are loaded on first use, not when this package is: resolvers import the package's small modules
(errors, entitlements, types), and the root imports every resolver, so loading it here would make
importing a resolver first run back up into a half-loaded resolver module.
"""

from __future__ import annotations

from typing import Any

_ROOT_NAMES = frozenset({"Query", "Mutation", "Subscription", "build_schema"})


def __getattr__(name: str) -> Any:
    if name in _ROOT_NAMES:
        from brokerql.schema import root

        return getattr(root, name)
    raise AttributeError(f"module 'brokerql.schema' has no attribute {name!r}")
