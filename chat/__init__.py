"""Conversations and messages on every channel. Built by the live chat issue."""
