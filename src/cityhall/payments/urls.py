"""Residents' payment pages and the provider's return and webhook addresses."""

from django.urls import path

from cityhall.payments.views import online, resident

app_name = "payments"

urlpatterns = [
    path("payments/", resident.my_payments, name="mine"),
    path("payments/notices/<str:number>/", resident.notice_detail, name="notice"),
    path("payments/notices/<str:number>/slip.pdf", resident.notice_pdf, name="notice_pdf"),
    path("payments/notices/<str:number>/pay/", online.pay_start, name="pay"),
    path("payments/fee/<str:reference>/", online.fee, name="fee"),
    path("payments/online/<uuid:pk>/return/", online.pay_return, name="return"),
    path("payments/webhooks/<slug:provider>/", online.webhook, name="webhook"),
    path("payments/sandbox/<str:provider_id>/", online.sandbox_page, name="sandbox"),
]
