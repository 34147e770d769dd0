"""What every app's JSON API shares: the error envelope, shared responses, validation, health.

An app's `api/` package builds on these and never imports another app's
views or serializers (see the README's layout section).
"""
