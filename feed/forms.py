"""Forms behind the review queue's and "Add series" POST actions."""

from __future__ import annotations

from django import forms

from feed.models import Series


class LinkReleaseForm(forms.Form):
    """Which series a release belongs to: a candidate or a search result picked by the admin."""

    series = forms.ModelChoiceField(queryset=Series.objects.all())


class ProviderSeriesForm(forms.Form):
    """A series picked from the metadata provider's answers, by the provider's own id."""

    provider = forms.CharField(max_length=32)
    external_id = forms.CharField(max_length=200)
