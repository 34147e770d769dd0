"""`manage.py load_demo`: the demo catalog, its releases and a demo admin, loaded idempotently."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from feed.models import MatchMethod, Release, Resolution, Series, SeriesOrigin
from follows.models import Follow
from metadata.providers import reset_provider

pytestmark = pytest.mark.django_db


def load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture(autouse=True)
def own_data_dir(data_dir):
    """The demo installs a metadata dump under the data dir: each test gets its own."""
    yield
    reset_provider()


def test_without_metadata_the_demo_keeps_the_import_only_tallies():
    load_demo("--no-metadata")

    assert Series.objects.count() == 117
    assert Release.objects.filter(source_name="demo").count() == 225
    # The fixture README's tally: 187 by title, 17 by provider link, 12 near misses, 9 unknown.
    resolved = Release.objects.filter(resolution=Resolution.RESOLVED)
    assert resolved.filter(match_method=MatchMethod.FUZZY_TITLE).count() == 187
    assert resolved.filter(match_method=MatchMethod.PROVIDER_LINK).count() == 17
    assert Release.objects.filter(resolution=Resolution.REVIEW_PENDING).count() == 12
    assert Release.objects.filter(resolution=Resolution.UNRESOLVED).count() == 9


def test_the_demo_loads_series_metadata_releases_and_an_admin():
    output = load_demo()

    assert "MangaBaka demo dump installed (133 active series of 134)" in output
    # 117 imported, and 16 created from the dump for releases the import lacks.
    assert Series.objects.filter(origin=SeriesOrigin.IMPORT).count() == 117
    created = Series.objects.filter(origin=SeriesOrigin.PROVIDER)
    assert created.count() == 16
    assert {"Golden Kamuy", "Kaiji", "Dragon Ball Super", "Look Back"} <= set(
        created.values_list("canonical_title", flat=True)
    )
    assert Release.objects.filter(source_name="demo").count() == 225
    resolved = Release.objects.filter(resolution=Resolution.RESOLVED)
    assert resolved.filter(match_method=MatchMethod.FUZZY_TITLE).count() == 187
    assert resolved.filter(match_method=MatchMethod.PROVIDER_LINK).count() == 17
    # The 9 unknown and 8 of the 12 near misses now resolve through MangaBaka.
    assert resolved.filter(match_method=MatchMethod.PROVIDER_TITLE).count() == 17
    assert Release.objects.filter(resolution=Resolution.REVIEW_PENDING).count() == 4
    assert Release.objects.filter(resolution=Resolution.UNRESOLVED).count() == 0
    # "Tensai-tachi no Renai Zunousen" found Kaguya-sama by its AniList id: no duplicate.
    kaguya = Series.objects.get(canonical_title="Kaguya-sama wa Kokurasetai")
    assert kaguya.releases.filter(title__startswith="Tensai-tachi").exists()
    demo = get_user_model().objects.get(username="demo")
    assert demo.is_staff and demo.is_superuser and demo.check_password("demo-password")
    assert "Log in at /accounts/login/ as demo / demo-password" in output


def test_loading_the_demo_again_changes_nothing():
    load_demo()
    get_user_model().objects.filter(username="demo").update(first_name="kept")

    output = load_demo()

    assert "Series: 0 created, 0 updated, 117 unchanged, 0 skipped." in output
    assert "Releases: fetched 225, new 0, updated 0," in output
    assert "already exists" in output
    assert Series.objects.count() == 133
    assert Release.objects.count() == 225
    assert get_user_model().objects.get(username="demo").first_name == "kept"


def test_a_missing_fixture_file_is_named(tmp_path):
    with pytest.raises(CommandError, match=r"demo data not found: .*nope\.json"):
        load_demo("--series-file", str(tmp_path / "nope.json"))


def test_the_demo_mutes_tracking_on_one_owned_series_so_every_badge_shows(db):
    call_command("load_demo", stdout=StringIO())
    muted = Series.objects.filter(ignore_completion=True).values_list("canonical_title", flat=True)
    assert list(muted) == ["Naruto"]


def test_the_demo_admin_follows_a_couple_of_series_for_the_wanted_page(db):
    call_command("load_demo", stdout=StringIO())
    call_command("load_demo", stdout=StringIO())

    followed = Follow.objects.filter(user__username="demo").values_list(
        "series__canonical_title", flat=True
    )
    assert sorted(followed) == ["Dorohedoro", "Vinland Saga"]
