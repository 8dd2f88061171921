"""Deployed models: deploying, access by token, the rate limit, predictions, batches, drift, retraining."""
