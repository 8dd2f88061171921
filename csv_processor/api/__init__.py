"""The REST API: views, serializers, error schemas, parsers and token auth, urls, and the fast dispatch of
the prediction endpoints (docs/decisions/0006-lean-prediction-endpoints.md)."""
