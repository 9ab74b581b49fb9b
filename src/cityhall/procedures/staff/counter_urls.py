"""URLs of the counter (書かない窓口, /staff/counter/…), in the ``procstaff`` namespace."""

from django.urls import path

from cityhall.procedures.staff import counter as views

SESSION = "counter/<int:session>/"
APP = SESSION + "app/<int:app>/"

urlpatterns = [
    path("counter/", views.home, name="counter"),
    path("counter/residents/new/", views.resident_new, name="counter_resident_new"),
    path("counter/start/<int:resident>/", views.start, name="counter_start"),
    path("counter/kpi/", views.kpi, name="counter_kpi"),
    path("counter/kpi.csv", views.kpi_csv, name="counter_kpi_csv"),
    path(SESSION, views.session_view, name="counter_session"),
    path(SESSION + "end/", views.end, name="counter_end"),
    path(SESSION + "display/", views.display, name="counter_display"),
    path(SESSION + "display/state/", views.display_state, name="counter_display_state"),
    path(APP, views.app_start, name="counter_app"),
    path(APP + "step/<slug:step>/", views.step, name="counter_step"),
    path(APP + "review/", views.review, name="counter_review"),
    path(APP + "submit/", views.submit, name="counter_submit"),
    path(APP + "print/", views.print_copy, name="counter_print"),
]
