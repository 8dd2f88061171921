from django.apps import AppConfig


class CsvProcessorConfig(AppConfig):
    name = "csv_processor"
    verbose_name = "CSV processing"
