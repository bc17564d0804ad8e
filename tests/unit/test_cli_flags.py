"""`brokerql serve` TLS flags go together; the admin commands are registered."""

from __future__ import annotations

import pytest

from brokerql.cli import main


def test_tls_needs_both_the_certificate_and_its_key(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--ssl-certfile", "cert.pem"])
    assert exited.value.code == 2
    assert "--ssl-certfile and --ssl-keyfile go together" in capsys.readouterr().err


def test_admin_commands_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    usage = capsys.readouterr().out
    assert "bootstrap" in usage and "persist-operations" in usage
