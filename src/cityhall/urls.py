from django.contrib import admin
from django.urls import include, path

from cityhall.api import api
from cityhall.core import views as core_views

admin.site.site_header = "cityhall"
admin.site.site_url = "/staff/"

urlpatterns = [
    path("", include("cityhall.portal.urls")),
    path("", include("cityhall.procedures.urls")),
    path("", include("cityhall.payments.urls")),
    path("", include("cityhall.notices.urls")),
    path("", include("cityhall.inquiries.urls")),
    path("account/", include("cityhall.people.urls")),
    path("staff/admin/", admin.site.urls),
    path("staff/", include("cityhall.procedures.staff_urls")),
    path("staff/", include("cityhall.payments.staff_urls")),
    path("staff/", include("cityhall.notices.staff_urls")),
    path("staff/", include("cityhall.inquiries.staff_urls")),
    path("staff/", include("cityhall.people.staff_urls")),
    path("api/v1/", api.urls),
    path("healthz", core_views.health, name="health"),
    path("problems/<slug:slug>", core_views.problem_type, name="problem_type"),
]

handler400 = "cityhall.core.views.bad_request"
handler403 = "cityhall.core.views.permission_denied"
handler404 = "cityhall.core.views.page_not_found"
handler500 = "cityhall.core.views.server_error"
