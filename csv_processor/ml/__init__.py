"""Pure pandas and scikit-learn: DataFrames and plain settings in, frozen dataclasses out. No Django, no
MLflow, no app code (an import-linter contract), so it can be used from a notebook."""
