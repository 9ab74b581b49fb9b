"""JSON API of the inquiries module (mounted under /api/v1)."""

from ninja import Router

from cityhall.inquiries.booking_api import router as booking_router
from cityhall.inquiries.faq_api import router as faq_router

router = Router(tags=["inquiries"])
router.add_router("", faq_router)
router.add_router("", booking_router)
