"""Booking API: services and free slots (helper: bookings)."""

from ninja import Router

router = Router(tags=["bookings"])
