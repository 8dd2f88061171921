"""Cleaning: fitted, replayable steps on DataFrames, their previews, dataset checks and suggestions."""
