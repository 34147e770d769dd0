"""The Codex connection's state: preflight, reachability and error records, Test connection.

`/info` is public and ignores credentials, so it proves reachability only
(`preflight`, the sweep's first step). Test connection also checks the key by
asking for one row of the external index. Every write to the connection's
status row apart from the sweep lock (`codex_sync.lock`) lives here.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

from django.utils import timezone

from codex_sync.client import (
    CodexClient,
    CodexError,
    CodexForbidden,
    CodexInfo,
    CodexUnauthorized,
    client_from_settings,
)
from codex_sync.models import AuthState, ConnectionStatus, HealthCheck

logger = logging.getLogger(__name__)


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
    client = client_from_settings(page_size=1)
    # This check writes its own history row (with the auth state) below.
    info = preflight(client, record_history=False)
    status = ConnectionStatus.get()
    if info is None:
        check = ConnectionCheck(False, status.auth_state, "", "", status.last_error)
    else:
        auth_state, message = AuthState.OK, CONNECTED
        try:
            client.get_series_external_index(page=1)
        except (CodexUnauthorized, CodexForbidden) as exc:
            auth_state, message = auth_state_for(exc), str(exc)
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


def preflight(client: CodexClient, *, record_history: bool = True) -> CodexInfo | None:
    """GET /info: record reachability and version. None when Codex is unreachable.

    A change of reachability adds a `HealthCheck` row unless `record_history`
    is false (Test connection writes its own, fuller row).
    """
    now = timezone.now()
    try:
        info = client.get_app_info()
    except CodexError as exc:
        record_reachability(False, error=str(exc), when=now, record_history=record_history)
        return None
    logger.info("Codex reachable: %s %s", info.name, info.version)
    record_reachability(True, info=info, when=now, record_history=record_history)
    return info


def record_reachability(
    reachable: bool,
    *,
    when: datetime,
    info: CodexInfo | None = None,
    error: str = "",
    at_preflight: bool = True,
    record_history: bool = True,
) -> None:
    """Record reachability (and version, or the error); a change adds a `HealthCheck` row."""
    status = ConnectionStatus.get()
    changed = status.reachable is not reachable
    fields = {"reachable": reachable}
    if at_preflight:
        fields["last_preflight_at"] = when
    if info is not None:
        fields.update(codex_name=info.name, codex_version=info.version)
    if error:
        fields.update(last_error=error, last_error_at=when)
    ConnectionStatus.objects.filter(pk=status.pk).update(**fields)
    if changed and record_history:
        HealthCheck.objects.create(
            checked_at=when,
            reachable=reachable,
            codex_name=info.name if info else "",
            codex_version=info.version if info else "",
            error=error,
        )


def record_error(message: str, **fields) -> None:
    """Store the latest error (and any other connection fields) on the status row."""
    ConnectionStatus.objects.filter(pk=ConnectionStatus.SINGLETON_ID).update(
        last_error=message, last_error_at=timezone.now(), **fields
    )


def last_error() -> str:
    """The latest error stored on the status row."""
    return ConnectionStatus.get().last_error


def auth_state_for(exc: CodexUnauthorized | CodexForbidden) -> str:
    """The key's state a 401 or 403 from Codex reveals."""
    return AuthState.UNAUTHORIZED if isinstance(exc, CodexUnauthorized) else AuthState.FORBIDDEN


def record_auth_failure(exc: CodexUnauthorized | CodexForbidden) -> None:
    """Codex refused the key mid-sweep: store the key's state and what Codex said."""
    record_error(str(exc), auth_state=auth_state_for(exc))


def record_success(when: datetime, *, linked: int, fetched: int) -> None:
    """A sweep applied: Codex is reachable, the key works, and these are the counts."""
    ConnectionStatus.objects.filter(pk=ConnectionStatus.SINGLETON_ID).update(
        auth_state=AuthState.OK,
        reachable=True,
        last_success_at=when,
        linked_count=linked,
        fetched_count=fetched,
    )
