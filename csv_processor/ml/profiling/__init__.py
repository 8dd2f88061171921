"""A version's profile: per-column statistics, charts' data and correlations."""
