"""The notices' part of the staff console, under /staff/notices/."""

from django.urls import path

from cityhall.notices.staff import alerts, articles, messages, segments

app_name = "noticestaff"

urlpatterns = [
    # articles (helper: articles)
    path("notices/", articles.article_list, name="articles"),
    path("notices/articles/new/", articles.article_new, name="article_new"),
    path("notices/articles/<int:pk>/", articles.article_edit, name="article"),
    path(
        "notices/articles/<int:pk>/versions/<str:language>/",
        articles.version_edit,
        name="article_version",
    ),
    path("notices/articles/<int:pk>/publish/", articles.publish, name="article_publish"),
    path("notices/articles/<int:pk>/withdraw/", articles.withdraw, name="article_withdraw"),
    path("notices/articles/<int:pk>/files/", articles.attachments, name="article_files"),
    # segments (helper: segments)
    path("notices/segments/", segments.segment_list, name="segments"),
    path("notices/segments/new/", segments.segment_new, name="segment_new"),
    path("notices/segments/<int:pk>/", segments.segment_edit, name="segment"),
    path("notices/segments/preview/", segments.preview, name="segment_preview"),
    # templates and messages (helper: staff messages)
    path("notices/messages/", messages.message_list, name="messages"),
    path("notices/messages/new/", messages.message_new, name="message_new"),
    path("notices/messages/<int:pk>/", messages.message_detail, name="message"),
    path("notices/messages/<int:pk>/board.json", messages.board_json, name="message_board"),
    path("notices/messages/<int:pk>/cancel/", messages.cancel, name="message_cancel"),
    path("notices/templates/", messages.template_list, name="templates"),
    path("notices/templates/new/", messages.template_new, name="template_new"),
    path("notices/templates/<int:pk>/", messages.template_edit, name="template"),
    path("notices/alerts/new/", alerts.alert_new, name="alert_new"),
]
