"""Test connection: is Codex reachable, and does it accept our key for series:read?

`/info` is public and ignores credentials, so it proves reachability only.
The key is checked by asking for one row of the external index.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.utils import timezone

from codex_sync.client import CodexError, CodexForbidden, CodexUnauthorized
from codex_sync.models import AuthState, ConnectionStatus, HealthCheck
from codex_sync.sweep import build_client, preflight


@dataclass(frozen=True)
class ConnectionCheck:
    reachable: bool
    auth_state: str
    codex_name: str
    codex_version: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


CONNECTED = "Connected."


def check_connection() -> ConnectionCheck:
    """Probe Codex now and record the result (connection status + one health-check row)."""
    client = build_client(page_size=1)
    # This check writes its own history row (with the auth state) below.
    info = preflight(client, record_history=False)
    status = ConnectionStatus.get()
    if info is None:
        check = ConnectionCheck(False, status.auth_state, "", "", status.last_error)
    else:
        auth_state, message = AuthState.OK, CONNECTED
        try:
            client.get_series_external_index(page=1)
        except CodexUnauthorized as exc:
            auth_state, message = AuthState.UNAUTHORIZED, str(exc)
        except CodexForbidden as exc:
            auth_state, message = AuthState.FORBIDDEN, str(exc)
        except CodexError as exc:
            auth_state, message = status.auth_state, str(exc)
        fields: dict = {"auth_state": auth_state}
        if message != CONNECTED:
            fields.update(last_error=message, last_error_at=timezone.now())
        ConnectionStatus.objects.filter(pk=status.pk).update(**fields)
        check = ConnectionCheck(True, auth_state, info.name, info.version, message)
    HealthCheck.objects.create(
        checked_at=timezone.now(),
        reachable=check.reachable,
        codex_name=check.codex_name,
        codex_version=check.codex_version,
        auth_state=check.auth_state,
        error="" if check.message == CONNECTED else check.message,
    )
    return check
