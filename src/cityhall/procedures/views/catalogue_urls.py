"""URLs of the procedure catalogue and the life-event guide (namespace ``procedures``)."""

from django.urls import path

from cityhall.procedures.views import catalogue

urlpatterns = [
    path("procedures/", catalogue.catalogue_index, name="catalogue"),
    path("procedures/<slug:slug>/", catalogue.detail, name="detail"),
    path("guide/", catalogue.guide_index, name="guides"),
    # Before <event>/ so that "checklists" is never read as a life event.
    path("guide/checklists/", catalogue.checklists, name="checklists"),
    path("guide/checklists/<int:pk>/", catalogue.checklist, name="checklist"),
    path("guide/<slug:event>/", catalogue.guide, name="guide"),
]
