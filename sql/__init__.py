"""Dateline's SQL files: views.sql (one view per table) and one saved query per file, read as package data."""
