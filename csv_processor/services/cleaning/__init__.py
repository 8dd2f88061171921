"""Cleaning jobs that make new versions, their parameters, and the suggestion model's storage."""
