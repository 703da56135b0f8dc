"""The `/ha` command: its grammar (pure) and its Slack listeners."""
