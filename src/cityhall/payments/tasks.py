"""Background tasks of payments (Django's tasks API; ``cityhall worker`` runs them)."""

from __future__ import annotations

from django_tasks import task

from cityhall.payments.services import printing


@task()
def print_slips(run_id: int) -> str:
    """Print (or resume) a print run; returns its final status."""
    return str(printing.run(run_id).status)
