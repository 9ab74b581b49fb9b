"""What other apps may react to (payments, notices): sent after the change has committed."""

from django.dispatch import Signal

# sender=Application class; kwargs: application
application_submitted = Signal()
# kwargs: application, from_status, to_status, actor
application_status_changed = Signal()
# kwargs: application, event (ApplicationEvent) — a message the resident should be told about
resident_message_posted = Signal()
