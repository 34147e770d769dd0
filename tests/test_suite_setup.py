"""What the suite itself relies on: a fast password hasher and no hypothesis deadlines."""

from __future__ import annotations

from hypothesis import settings as hypothesis_settings

from tests.helpers import ADMIN_PASSWORD


def test_test_users_get_the_fast_md5_hash(staff_user):
    assert staff_user.password.startswith("md5$")
    assert staff_user.check_password(ADMIN_PASSWORD)


def test_property_tests_have_no_deadline():
    assert hypothesis_settings.default.deadline is None
