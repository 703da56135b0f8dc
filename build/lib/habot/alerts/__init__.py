"""Alerts: read the nodes' logs on a schedule, match a rule catalogue, post each problem once."""
