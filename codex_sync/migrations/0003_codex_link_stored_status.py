"""Store the status rule's answer on each Codex link, indexed, and fill it in."""

from django.db import migrations, models

from codex_sync.status import stored_status_subquery


def backfill(apps, schema_editor):
    # The same expression `refresh_link_status` writes, over the historical model.
    link_model = apps.get_model("codex_sync", "CodexLink")
    link_model.objects.update(status=stored_status_subquery(link_model))


class Migration(migrations.Migration):
    dependencies = [
        ("codex_sync", "0002_sweep_outcomes_held_back_crashed"),
        ("feed", "0005_filter_sort_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="codexlink",
            name="status",
            field=models.CharField(blank=True, editable=False, max_length=8, null=True),
        ),
        migrations.AddIndex(
            model_name="codexlink",
            index=models.Index(fields=["status", "series"], name="codex_link_status_idx"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
