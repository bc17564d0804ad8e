"""F1 partners: OAuth2 client credentials (RFC 6749 4.4) with authlib's authorization server.

authlib validates the request (grant type, client authentication by HTTP Basic or form post, scopes)
and shapes the RFC 6749 responses and errors; we supply the registered clients, loaded before the
synchronous authlib call, and our own signed access tokens (kind "partner", scopes in `scp`). Each
token gets a session row, so revoking an API client ends its tokens like a client logout does.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.authenticate_client import extract_basic_authorization
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from sqlalchemy import select

from brokerql.domain.clock import Clock
from brokerql.services.identity.backoffice import PARTNER_SCOPES, secret_digest
from brokerql.services.identity.sessions import SessionGate
from brokerql.services.tokens import AccessTokens
from brokerql.store.columns import new_id
from brokerql.store.database import Database
from brokerql.store.tables_backoffice import ApiClientRow
from brokerql.store.tables_identity import AuthSessionRow


class RegisteredClient(ClientMixin):
    """An `api_client` row as authlib sees it: confidential, client_credentials only."""

    def __init__(self, row: ApiClientRow) -> None:
        self.row = row

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = set(self.row.scopes)
        if not scope:
            return " ".join(sorted(allowed))
        return " ".join(sorted(s for s in scope.split() if s in allowed))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(secret_digest(client_secret), self.row.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class FormRequest(OAuth2Request):
    def __init__(self, uri: str, headers: Mapping[str, str], form: dict[str, str]) -> None:
        super().__init__("POST", uri, headers=headers)
        self.payload = BasicOAuth2Payload(form)
        self._form = form

    @property
    def form(self) -> dict[str, str]:
        return self._form


@dataclass
class TokenResponse:
    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]] = field(default_factory=list)


class _Server(AuthorizationServer):
    def __init__(self, clients: dict[str, RegisteredClient], generator: Any) -> None:
        super().__init__(scopes_supported=sorted(PARTNER_SCOPES))
        self._clients = clients
        self.issued: list[dict[str, Any]] = []
        self.register_grant(ClientCredentialsGrant)
        self.register_token_generator("default", generator)

    def query_client(self, client_id: str) -> RegisteredClient | None:
        return self._clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        self.issued.append(token)

    def create_oauth2_request(self, request: Any) -> Any:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> TokenResponse:
        return TokenResponse(status, dict(body), list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


class Partners:
    def __init__(self, db: Database, access: AccessTokens, sessions: SessionGate, clock: Clock) -> None:
        self.db = db
        self.access = access
        self.sessions = sessions
        self.clock = clock

    async def token(self, uri: str, headers: Mapping[str, str], form: dict[str, str]) -> TokenResponse:
        # authlib is synchronous: load the one client the request names first, then let it decide.
        basic_id, _ = extract_basic_authorization(headers)
        client_id = basic_id or form.get("client_id") or ""
        async with self.db.read() as session:
            row = await session.scalar(
                select(ApiClientRow).where(ApiClientRow.client_id == client_id, ApiClientRow.revoked_at.is_(None))
            )
        clients = {row.client_id: RegisteredClient(row)} if row is not None else {}
        pending: list[tuple[str, str]] = []

        def generate(grant_type: str, client: RegisteredClient, user: Any = None, scope: str | None = None,
                     expires_in: int | None = None, include_refresh_token: bool = False) -> dict[str, Any]:  # fmt: skip
            granted = client.get_allowed_scope(scope)
            session_id = new_id("ses")
            pending.append((session_id, client.row.id))
            token, expires_at = self.access.issue(
                client.row.id, "partner", now=self.clock.now(), scopes=frozenset(granted.split()), session_id=session_id
            )
            seconds = int((expires_at - self.clock.now()).total_seconds())
            return {"access_token": token, "token_type": "Bearer", "expires_in": seconds, "scope": granted}

        server = _Server(clients, generate)
        response = server.create_token_response(FormRequest(uri, headers, form))
        if pending:
            async with self.db.transaction() as uow:
                for session_id, subject in pending:
                    now = self.clock.now()
                    uow.session.add(
                        AuthSessionRow(
                            id=session_id, subject_id=subject, subject_kind="partner", method="CLIENT_CREDENTIALS",
                            created_at=now, last_seen_at=now,
                        )
                    )  # fmt: skip
        return response
