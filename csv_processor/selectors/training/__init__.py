"""Reads for training: runs and their cards (runs), the set-up form's facts and pre-flight (setup, facts)."""
