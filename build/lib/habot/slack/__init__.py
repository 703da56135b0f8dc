"""Everything that knows Slack: Block Kit rendering and Bolt wiring."""
