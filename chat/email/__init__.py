"""The email channel: receiving, threading, parsing and sending mail."""
