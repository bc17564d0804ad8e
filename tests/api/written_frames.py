"""Which path sent a frame: the texts the group writers wrote, recorded around `PushChannel.write`.

A test module that imports `record_written_frames` and marks itself with
`pytest.mark.usefixtures("record_written_frames")` can tell a frame the writer sent (its text is in
`written`) from one strawberry sent.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from brokerql.subscriptions.push_channel import PushChannel

written: set[str] = set()


@pytest.fixture
def record_written_frames(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    write = PushChannel.write

    def recorded(self: PushChannel, payload: str) -> object:
        written.add(self.prefix + payload + self.suffix)  # type: ignore[operator]
        return write(self, payload)

    monkeypatch.setattr(PushChannel, "write", recorded)
    yield
    written.clear()
