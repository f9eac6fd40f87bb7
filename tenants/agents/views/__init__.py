"""The agent app's own pages; allauth serves sign-in, password, email and two-factor pages."""
