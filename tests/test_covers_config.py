"""The `[covers]` config section and the prefetch schedule it asks for."""

from __future__ import annotations

import pytest

from covers.schedules import cover_schedules
from tsundoku.config import ConfigError, load_config


def test_defaults(tmp_path):
    covers = load_config({}, base_dir=tmp_path).covers
    assert covers == {
        "enabled": True,
        "max_cache_mb": 500,
        "max_image_mb": 5,
        "timeout_seconds": 15.0,
        "prefetch_cron": "23 * * * *",
    }


def test_environment_overrides(tmp_path):
    covers = load_config(
        {
            "TSUNDOKU_COVERS__ENABLED": "false",
            "TSUNDOKU_COVERS__MAX_CACHE_MB": "50",
            "TSUNDOKU_COVERS__PREFETCH_CRON": "",
        },
        base_dir=tmp_path,
    ).covers
    assert (covers["enabled"], covers["max_cache_mb"], covers["prefetch_cron"]) == (
        False,
        50,
        None,
    )


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({"TSUNDOKU_COVERS__ENABLED": "sometimes"}, "TSUNDOKU_COVERS__ENABLED"),
        ({"TSUNDOKU_COVERS__MAX_CACHE_MB": "lots"}, "TSUNDOKU_COVERS__MAX_CACHE_MB"),
        ({"TSUNDOKU_COVERS__MAX_CACHE_MB": "0"}, "covers.max_cache_mb"),
        ({"TSUNDOKU_COVERS__MAX_IMAGE_MB": "0"}, "covers.max_image_mb"),
        (
            {"TSUNDOKU_COVERS__MAX_CACHE_MB": "4", "TSUNDOKU_COVERS__MAX_IMAGE_MB": "5"},
            "covers.max_image_mb",
        ),
        ({"TSUNDOKU_COVERS__TIMEOUT_SECONDS": "0"}, "covers.timeout_seconds"),
        ({"TSUNDOKU_COVERS__PREFETCH_CRON": "hourly"}, "covers.prefetch_cron"),
    ],
)
def test_a_malformed_value_is_refused_naming_the_key(tmp_path, environment, named):
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_config(environment, base_dir=tmp_path)


def test_an_unknown_key_in_the_section_is_refused(tmp_path):
    toml = tmp_path / "t.toml"
    toml.write_text("[covers]\nmax_cache_gb = 1\n")
    with pytest.raises(ConfigError, match="covers: unknown key"):
        load_config({"TSUNDOKU_CONFIG": str(toml)}, base_dir=tmp_path)


def test_the_prefetch_is_scheduled_on_its_cron(tsundoku_config):
    tsundoku_config(covers={"prefetch_cron": "5 * * * *"})
    (spec,) = cover_schedules()
    assert (spec.name, spec.func, spec.args, spec.cron) == (
        "covers-prefetch",
        "covers.tasks.prefetch_covers_task",
        (),
        "5 * * * *",
    )


@pytest.mark.parametrize("change", [{"prefetch_cron": None}, {"enabled": False}])
def test_no_schedule_without_a_cron_or_with_covers_disabled(tsundoku_config, change):
    tsundoku_config(covers=change)
    assert cover_schedules() == []
