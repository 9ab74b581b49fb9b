"""URLs of the resident's online applications (namespace ``procedures``)."""

from django.urls import path

from cityhall.procedures.views import apply

urlpatterns = [
    path("apply/<slug:slug>/", apply.apply_start, name="apply_start"),
    path("resume/<str:token>/", apply.apply_resume, name="apply_resume"),
    path("my/applications/", apply.application_list, name="applications"),
    path("my/applications/<int:pk>/", apply.application_detail, name="application"),
    path("my/applications/<int:pk>/step/<slug:step_key>/", apply.apply_step, name="apply_step"),
    path("my/applications/<int:pk>/saved/", apply.apply_saved, name="apply_saved"),
    path("my/applications/<int:pk>/check/", apply.apply_check, name="apply_check"),
    path("my/applications/<int:pk>/submit/", apply.apply_submit, name="apply_submit"),
    path("my/applications/<int:pk>/done/", apply.apply_done, name="apply_done"),
    path("my/applications/<int:pk>/delete/", apply.apply_discard, name="apply_discard"),
    path(
        "my/applications/<int:pk>/withdraw/",
        apply.application_withdraw,
        name="application_withdraw",
    ),
    path("my/applications/<int:pk>/receipt.pdf", apply.application_pdf, name="application_pdf"),
    path(
        "my/applications/<int:pk>/files/<int:file_pk>/",
        apply.application_file,
        name="application_file",
    ),
]
