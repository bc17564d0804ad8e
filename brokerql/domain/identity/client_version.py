"""F2 client expiry: refuse out-of-date client builds by a minimum version.

Clients send their build as a header (e.g. ``X-Client-Version: 2.4.1``). A missing header is refused
by default: F2 exists to shut out old builds, and the oldest builds are the ones that send nothing.
Deployments that also serve tools without a version (GraphiQL, partners' scripts) opt in with
``allow_missing=True``; F1's API-client registration still applies to them.
"""

from __future__ import annotations

import re

# 1 to 3 numeric parts, optional leading "v"; parts capped at 6 digits so a header cannot make us
# build huge integers. Pre-release suffixes are refused: release builds only.
_VERSION = re.compile(r"^v?(\d{1,6})(?:\.(\d{1,6}))?(?:\.(\d{1,6}))?$", re.ASCII)


def parse_version(value: str) -> tuple[int, int, int]:
    """``"1.2.3"`` -> ``(1, 2, 3)``; ``"1.2"`` -> ``(1, 2, 0)``. Raises ``ValueError`` if malformed."""
    match = _VERSION.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"not a version: {value!r}")
    major, minor, patch = (int(part) if part else 0 for part in match.groups())
    return major, minor, patch


def is_version_allowed(header_value: str | None, minimum: str, *, allow_missing: bool = False) -> bool:
    """Whether a client reporting ``header_value`` may call the API (malformed versions may not)."""
    if header_value is None or not header_value.strip():
        return allow_missing
    try:
        return parse_version(header_value) >= parse_version(minimum)
    except ValueError:
        return False
