"""Contacts: the workspace's customers (see DOMAIN.md). Lives in the workspace schema."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone as dj_timezone


def _visitor_key() -> str:
    return secrets.token_urlsafe(24)


class Contact(models.Model):
    """A customer. One person reaching the workspace on several channels is one contact."""

    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True, db_index=True)
    # The address is known to be the customer's: they wrote from it, or the store vouched for it
    # in a signed identity. Only such addresses join a chat and an email writer into one contact;
    # an address typed in the pre-chat form never does.
    email_verified = models.BooleanField(default=False)
    # Set when mail to the address bounced; shown on the contact's tickets.
    email_failing_since = models.DateTimeField(null=True, blank=True)
    email_failure_reason = models.CharField(max_length=500, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    country = models.CharField(max_length=2, blank=True)
    language = models.CharField(max_length=16, blank=True)
    timezone = models.CharField(max_length=64, blank=True)
    # The shopper's id in the merchant's store, passed by the widget with a signed identity.
    external_id = models.CharField(max_length=200, blank=True, db_index=True)
    identity_verified = models.BooleanField(default=False)
    custom_attributes = models.JSONField(default=dict, blank=True)
    # Part of every visitor token of this contact: replacing it signs every widget out.
    visitor_key = models.CharField(max_length=64, default=_visitor_key)
    # What the widget last reported about the visitor's browser (customer panel).
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_page_url = models.CharField(max_length=2000, blank=True)
    last_page_title = models.CharField(max_length=300, blank=True)
    last_referrer = models.CharField(max_length=2000, blank=True)
    last_user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        indexes = [
            # Mail is matched to its contact by address, case-insensitively (email__iexact).
            models.Index(Upper("email"), name="contact_email_upper_idx"),
        ]
        constraints = [
            # One verified contact per store customer id.
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(identity_verified=True) & ~Q(external_id=""),
                name="contact_verified_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.email or f"Visitor {self.pk}"
