"""Signal receivers: the search index follows FAQ changes in any process."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from cityhall.inquiries.models import FaqEntry, FaqText
from cityhall.inquiries.services import search


@receiver(post_save, sender=FaqEntry)
@receiver(post_delete, sender=FaqEntry)
@receiver(post_save, sender=FaqText)
@receiver(post_delete, sender=FaqText)
def _faq_changed(sender: Any, **kwargs: Any) -> None:
    search.invalidate()
