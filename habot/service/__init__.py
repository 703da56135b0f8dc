"""The use cases, frontend-neutral: what habot does for a person, whatever they type into.

Adapters (Slack, the console) parse, call these and render the typed results; nothing here
knows Block Kit or a terminal."""
