"""Forms behind the review queue's POST actions."""

from __future__ import annotations

from django import forms

from feed.models import Series


class LinkReleaseForm(forms.Form):
    """Which series a release belongs to: a candidate or a search result picked by the admin."""

    series = forms.ModelChoiceField(queryset=Series.objects.all())
