"""URLs of the form builder (/staff/forms/…), in the ``procstaff`` namespace.

Keys of steps and questions never contain "-", so ``add-step`` and ``add-question``
cannot collide with a key.
"""

from django.urls import path

from cityhall.procedures.staff import builder as views

FORM = "forms/<slug:slug>/"
STEP = FORM + "steps/<slug:step>/"
FIELD = STEP + "fields/<slug:key>/"
GROUP = STEP + "groups/<slug:group>/"
SUBFIELD = GROUP + "fields/<slug:key>/"

urlpatterns = [
    path("forms/", views.forms_list, name="forms"),
    path(FORM, views.form_edit, name="form_edit"),
    path(FORM + "title/", views.form_title, name="form_title"),
    path(FORM + "add-step/", views.step_add, name="step_add"),
    path(STEP, views.step_edit, name="step_edit"),
    path(STEP + "move/", views.step_move, name="step_move"),
    path(STEP + "delete/", views.step_delete, name="step_delete"),
    path(STEP + "add-question/", views.field_add, name="field_add"),
    path(FIELD, views.field_edit, name="field_edit"),
    path(FIELD + "move/", views.field_move, name="field_move"),
    path(FIELD + "delete/", views.field_delete, name="field_delete"),
    path(GROUP + "add-question/", views.subfield_add, name="subfield_add"),
    path(SUBFIELD, views.subfield_edit, name="subfield_edit"),
    path(SUBFIELD + "move/", views.subfield_move, name="subfield_move"),
    path(SUBFIELD + "delete/", views.subfield_delete, name="subfield_delete"),
    path(FORM + "preview/", views.preview, name="form_preview"),
    path(FORM + "preview/<slug:step>/", views.preview, name="form_preview_step"),
    path(FORM + "publish/", views.publish, name="form_publish"),
    path(FORM + "versions/", views.versions, name="form_versions"),
    path(FORM + "versions/<int:number>/", views.version_detail, name="form_version"),
    path(
        FORM + "versions/<int:number>/restore/", views.version_restore, name="form_version_restore"
    ),
    path(FORM + "export/", views.export, name="form_export"),
    path(FORM + "import/", views.import_form, name="form_import"),
]
