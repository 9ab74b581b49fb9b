"""The case board under /staff/ (namespace ``procstaff``)."""

from django.urls import path

from cityhall.procedures.staff import board

urlpatterns = [
    path("cases/", board.board, name="board"),
    path("cases/bulk/", board.bulk, name="board_bulk"),
    path("cases/export/", board.export, name="board_export"),
    path("cases/<int:pk>/", board.case, name="case"),
    path("cases/<int:pk>/status/", board.case_status, name="case_status"),
    path("cases/<int:pk>/assign/", board.case_assign, name="case_assign"),
    path("cases/<int:pk>/note/", board.case_note, name="case_note"),
    path("cases/<int:pk>/message/", board.case_message, name="case_message"),
    path(
        "cases/<int:pk>/attachments/<int:attachment_pk>/",
        board.case_attachment,
        name="case_attachment",
    ),
]
