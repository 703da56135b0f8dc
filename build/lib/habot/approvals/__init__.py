"""Approval requests: who may approve what, and the state a request moves through."""
