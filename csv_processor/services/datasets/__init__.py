"""Uploads, their parse into versions, imports, samples, and renaming or deleting datasets."""
