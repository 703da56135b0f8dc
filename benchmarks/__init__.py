"""Benchmarks: each module runs on its own (`python -m benchmarks.NAME`), with the same
known third-party warnings silenced as the `habot` entry point (habot.launcher.KNOWN)."""

from habot.launcher import install

install()
