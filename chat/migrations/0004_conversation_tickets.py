"""Every conversation started before tickets existed gets a ticket of its own."""

from django.db import migrations

_STATUS = {"open": "open", "pending": "pending", "snoozed": "on_hold", "resolved": "solved"}


def forwards(apps, schema_editor):
    Conversation = apps.get_model("chat", "Conversation")
    Ticket = apps.get_model("tickets", "Ticket")
    cursor = schema_editor.connection.cursor()
    for conversation in Conversation.objects.filter(ticket__isnull=True).order_by("pk"):
        cursor.execute("SELECT nextval('ticket_number_seq')")
        ticket = Ticket.objects.create(
            number=1000 + cursor.fetchone()[0],
            subject="",
            status=_STATUS.get(conversation.status, "open"),
            assignee_id=conversation.assignee_id,
            requester_id=conversation.contact_id,
            channels=[conversation.channel],
            last_message_preview=conversation.last_message_preview,
            last_message_sender_kind=conversation.last_message_sender_kind,
            unread_count=conversation.agent_unread_count,
            created_at=conversation.created_at,
            last_activity_at=conversation.last_activity_at,
        )
        conversation.ticket = ticket
        conversation.save(update_fields=["ticket"])


class Migration(migrations.Migration):
    dependencies = [("chat", "0003_email_and_tickets"), ("tickets", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
