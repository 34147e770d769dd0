"""Cross-setting sanity checks, shown by `manage.py check` and at every start.

Hard errors (a value that cannot work) are refused earlier, in
`tsundoku.config`; these are the combinations that work but are probably
not what the operator meant.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


@checks.register(checks.Tags.security)
def check_read_key(app_configs, **kwargs):
    auth = settings.TSUNDOKU.auth
    if auth["read_requires_auth"] and not auth["api_key"]:
        return [
            checks.Warning(
                "auth.read_requires_auth is true but auth.api_key is not set.",
                hint="Only logged-in users can read; set auth.api_key for API clients.",
                id="tsundoku.W001",
            )
        ]
    return []


# Deploy-only: an on-demand-only setup is legitimate and need not be repeated
# on every manage.py command; `manage.py check --deploy` reports it.
@checks.register(deploy=True)
def check_codex_schedule(app_configs, **kwargs):
    codex = settings.TSUNDOKU.codex
    if codex["enabled"] and not codex["sync_cron"]:
        return [
            checks.Info(
                "codex.sync_cron is not set: Codex is only swept on demand.",
                hint="Set codex.sync_cron (e.g. '0 * * * *') for a scheduled sweep.",
                id="tsundoku.I001",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def check_codex_transport(app_configs, **kwargs):
    codex = settings.TSUNDOKU.codex
    if not codex["enabled"]:
        return []
    parts = urlsplit(codex["base_url"])
    if parts.scheme == "http" and (parts.hostname or "") not in LOCAL_HOSTS:
        return [
            checks.Warning(
                "codex.base_url uses plain http to a remote host: the Codex API key "
                "travels unencrypted.",
                hint="Use https:// for Codex unless it is on a trusted private network.",
                id="tsundoku.W002",
            )
        ]
    return []
