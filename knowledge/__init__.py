"""Knowledge base, help center and the FAQ bot. Built by the knowledge issue."""
