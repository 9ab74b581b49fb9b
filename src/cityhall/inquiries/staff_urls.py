"""The inquiries' part of the staff console, under /staff/."""

from django.urls import path

from cityhall.inquiries.staff import bookings, faq, tickets

app_name = "inqstaff"

urlpatterns = [
    # FAQ (helper: faq)
    path("faq/", faq.entry_list, name="faq"),
    path("faq/new/", faq.entry_new, name="faq_new"),
    path("faq/import/", faq.import_csv, name="faq_import"),
    path("faq/<int:pk>/", faq.entry_edit, name="faq_entry"),
    path("faq/<int:pk>/texts/<str:language>/", faq.text_edit, name="faq_text"),
    # inquiries on the case board (helper: tickets)
    path("cases/inquiries/", tickets.ticket_list, name="tickets"),
    path("cases/inquiries/<int:pk>/", tickets.ticket_detail, name="ticket"),
    path("cases/inquiries/<int:pk>/reply/", tickets.reply, name="ticket_reply"),
    path("cases/inquiries/<int:pk>/route/", tickets.route, name="ticket_route"),
    path("cases/inquiries/<int:pk>/status/", tickets.status, name="ticket_status"),
    path("inquiries/rules/", tickets.rules, name="rules"),
    path("inquiries/templates/", tickets.templates, name="reply_templates"),
    # bookings (helper: bookings)
    path("bookings/", bookings.day_list, name="bookings"),
    path("bookings/slots/", bookings.slots, name="booking_slots"),
    path("bookings/<int:pk>/", bookings.booking_detail, name="booking"),
]
