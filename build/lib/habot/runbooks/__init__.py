"""Runbooks: declarative YAML procedures, validated on load, planned against the live status."""
