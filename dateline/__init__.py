"""Dateline: news pages to a queryable record of what happened, when, and who was involved.

The code lives in three subpackages, mapped from the repository's top-level folders (pyproject.toml):
``dateline.flows`` (flows/: orchestration, I/O, the command line), ``dateline.transforms``
(transforms/: pure functions) and ``dateline.sql`` (sql/: the views and saved queries).
"""
