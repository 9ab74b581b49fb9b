"""The payments' part of the staff console, under /staff/payments/."""

from django.urls import path

from cityhall.payments.staff import charges, online, printing, reconcile

app_name = "paystaff"

urlpatterns = [
    path("payments/", charges.charge_list, name="charges"),
    path("payments/charges/<int:pk>/", charges.charge_detail, name="charge"),
    path("payments/installments/<int:pk>/reissue/", charges.reissue, name="reissue"),
    path("payments/charges/<int:pk>/link/", charges.link_payer, name="link_payer"),
    path("payments/notices/<str:number>/slip.pdf", charges.notice_pdf, name="notice_pdf"),
    path("payments/imports/", charges.imports, name="imports"),
    path("payments/print/", printing.runs, name="print"),
    path("payments/print/<int:pk>/", printing.run_detail, name="print_run"),
    path("payments/print/<int:pk>/progress/", printing.run_progress, name="print_progress"),
    path("payments/print/<int:pk>/parts/<int:number>.pdf", printing.part_pdf, name="print_part"),
    path("payments/reconcile/", reconcile.files, name="reconcile"),
    path("payments/reconcile/<int:pk>/", reconcile.file_detail, name="reconcile_file"),
    path("payments/exceptions/", reconcile.exceptions, name="exceptions"),
    path("payments/exceptions/<int:pk>/", reconcile.exception_detail, name="exception"),
    path("payments/revenue.csv", reconcile.revenue_export, name="revenue"),
    path("payments/reminders/", reconcile.reminders, name="reminders"),
    path("payments/online/", online.payments, name="online"),
    path("payments/online/<uuid:pk>/", online.payment_detail, name="online_payment"),
]
