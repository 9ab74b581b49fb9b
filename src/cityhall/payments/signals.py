"""Events of the payments module that other parts react to."""

from django.dispatch import Signal

# Sent with ``installment`` when an installment becomes paid (provisionally or finally):
# the fee of a procedure is then marked paid, reminders stop.
installment_paid = Signal()
