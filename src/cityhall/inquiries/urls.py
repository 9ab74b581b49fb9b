"""Residents' pages of the inquiries module: FAQ, chat, contact form, my inquiries, bookings."""

from django.urls import path

from cityhall.inquiries.views import booking, chat, contact, faq

app_name = "inquiries"

urlpatterns = [
    # FAQ (helper: faq)
    path("faq/", faq.faq_list, name="faq"),
    path("faq/<str:key>/", faq.faq_detail, name="faq_entry"),
    # chat (helper: chat)
    path("ask/", chat.ask, name="ask"),
    path("ask/<uuid:conversation>/feedback/", chat.feedback, name="ask_feedback"),
    path("ask/<uuid:conversation>/handover/", chat.handover, name="ask_handover"),
    # tickets (helper: tickets)
    path("contact/", contact.contact, name="contact"),
    path("contact/sent/<str:reference>/", contact.contact_sent, name="contact_sent"),
    path("my/inquiries/", contact.my_tickets, name="my_tickets"),
    path("my/inquiries/<str:reference>/", contact.my_ticket, name="my_ticket"),
    # bookings (helper: bookings)
    path("booking/", booking.services, name="booking"),
    path("booking/<slug:service>/", booking.slots, name="booking_slots"),
    path("booking/<slug:service>/<int:slot>/", booking.book, name="booking_book"),
    path("my/bookings/", booking.my_bookings, name="my_bookings"),
    path("my/bookings/<str:reference>/", booking.my_booking, name="my_booking"),
    path("my/bookings/<str:reference>/cancel/", booking.cancel, name="booking_cancel"),
    path("my/bookings/<str:reference>/calendar.ics", booking.ics, name="booking_ics"),
]
