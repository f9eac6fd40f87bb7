"""Presence, capacity, routing rules and assignment. Built by the routing issue."""
