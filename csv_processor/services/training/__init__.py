"""Training runs: creating, executing, tracking in MLflow, reaping, and the stored model files."""
