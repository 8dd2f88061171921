"""Every write and side effect, one package per part of the product plus jobs/ (workers, recovery, the
task queue). Services import selectors and models, never entrypoints: docs/decisions/0007-layout.md."""
