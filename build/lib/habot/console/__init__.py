"""habot without Slack: a prompt where a person types `/ha ...`."""
