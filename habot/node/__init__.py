"""What runs on the nodes themselves: habot-node (helper.py), the one program an unprivileged
node user may run through sudo (Python's standard library only)."""

HELPER_PATH = "/usr/local/libexec/habot/habot-node"
HELPER = "habot-node"  # an argv starting with it is one of the helper's own steps
EXIT_REFUSED = 77  # the helper's refusal (EX_NOPERM)
AGENT_PATH = "/usr/local/libexec/habot/habot-alert"  # Pacemaker's alert agent, beside it
AGENT_FILE = "/var/log/pacemaker/habot-events.jsonl"  # where the agent writes by default
