"""The machine-learning "task" (binary, multiclass, regression) is called problem_type in the code, so it
is not read as a background task. The columns keep their names (db_column): state only, no SQL."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("csv_processor", "0009_training_run_max_trials"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField(model_name="trainingrun", old_name="task", new_name="problem_type"),
                migrations.AlterField(
                    model_name="trainingrun",
                    name="problem_type",
                    field=models.CharField(
                        choices=[
                            ("binary", "Binary classification"),
                            ("multiclass", "Multiclass classification"),
                            ("regression", "Regression"),
                        ],
                        db_column="task",
                        max_length=16,
                    ),
                ),
                migrations.RenameField(
                    model_name="trainingrun", old_name="task_reason", new_name="problem_type_reason"
                ),
                migrations.AlterField(
                    model_name="trainingrun",
                    name="problem_type_reason",
                    field=models.CharField(blank=True, db_column="task_reason", max_length=300),
                ),
                migrations.RenameField(model_name="deployedmodel", old_name="task", new_name="problem_type"),
                migrations.AlterField(
                    model_name="deployedmodel",
                    name="problem_type",
                    field=models.CharField(db_column="task", max_length=16),
                ),
            ],
            database_operations=[],
        ),
    ]
