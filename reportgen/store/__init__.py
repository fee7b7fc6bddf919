"""Stored arrays: quantisation, per-example records and the content-addressed cache."""
