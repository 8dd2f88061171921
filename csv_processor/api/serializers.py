"""Output serializers shared by the REST API's views (each view nests its own input serializer)."""

from rest_framework import serializers

from csv_processor.models import DeployedModel, ModelVersion


class ModelVersionSerializer(serializers.ModelSerializer):
    run_id = serializers.IntegerField(read_only=True)
    algorithm = serializers.CharField(source="run.best_algorithm", read_only=True)
    dataset_version = serializers.IntegerField(source="run.dataset_version.number", read_only=True)
    mlflow_model = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = ["number", "run_id", "algorithm", "dataset_version", "mlflow_model", "created_at"]

    def get_mlflow_model(self, version: ModelVersion) -> dict | None:
        run = version.run
        if not run.registered_model_name:
            return None
        return {"name": run.registered_model_name, "version": run.registered_model_version}


class DeployedModelListSerializer(serializers.ModelSerializer):
    # The JSON key stays "task" (a published contract); the model calls it problem_type.
    task = serializers.CharField(source="problem_type", max_length=16)
    active_version = serializers.IntegerField(source="active_version.number", allow_null=True, read_only=True)
    ready = serializers.BooleanField(source="is_ready", read_only=True)

    class Meta:
        model = DeployedModel
        fields = ["id", "name", "task", "target", "active_version", "ready", "created_at", "updated_at"]


class InputFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    role = serializers.CharField(help_text="numeric, categorical, datetime, text or passthrough (optional, unused).")
    # A declared field that shares its name with the Field attribute `required`; DRF keeps them apart.
    required = serializers.BooleanField()  # type: ignore[assignment]
    minimum = serializers.FloatField(allow_null=True)
    maximum = serializers.FloatField(allow_null=True)
    median = serializers.FloatField(allow_null=True)
    categories = serializers.ListField(child=serializers.CharField())
    date_min = serializers.CharField(allow_null=True)
    date_max = serializers.CharField(allow_null=True)


class DeployedModelDetailSerializer(serializers.Serializer):
    """Serializes `serving_selectors.ModelDetail`."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    task = serializers.CharField(source="problem_type")
    target = serializers.CharField()
    active_version = serializers.IntegerField(allow_null=True)
    ready = serializers.BooleanField()
    input_schema = InputFieldSerializer(many=True)
    class_labels = serializers.ListField(child=serializers.JSONField())
    metrics = serializers.DictField()
    model_card = serializers.DictField()
    versions = ModelVersionSerializer(many=True)
    drift = serializers.DictField()
    live_quality = serializers.DictField(allow_null=True)


class PredictionOutputSerializer(serializers.Serializer):
    model_id = serializers.IntegerField()
    version = serializers.IntegerField()
    prediction_ids = serializers.ListField(child=serializers.UUIDField())
    predictions = serializers.ListField(child=serializers.JSONField())
    probabilities = serializers.ListField(child=serializers.DictField(child=serializers.FloatField()), required=False)
    warnings = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    explanations = serializers.ListField(child=serializers.ListField(child=serializers.DictField()), required=False)
