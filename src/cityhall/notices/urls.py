"""Residents' pages of the notices module, the feeds, and the channels' callbacks."""

from django.urls import path

from cityhall.notices.views import feeds, line, news, push, settings

app_name = "notices"

urlpatterns = [
    # news (helper: articles)
    path("news/", news.news_list, name="news"),
    path("news/feed.rss", feeds.RssFeed(), name="feed_rss"),
    path("news/feed.atom", feeds.AtomFeed(), name="feed_atom"),
    path("news/feed.json", feeds.json_feed, name="feed_json"),
    path("news/files/<int:pk>/", news.attachment, name="attachment"),
    path("news/<slug:slug>/", news.news_detail, name="article"),
    # the resident's settings and inbox (helper: preferences)
    path("my/notifications/", settings.preferences, name="preferences"),
    path("my/inbox/", settings.inbox, name="inbox"),
    path("my/inbox/<int:pk>/", settings.inbox_item, name="inbox_item"),
    path("unsubscribe/<str:token>/", settings.unsubscribe, name="unsubscribe"),
    # LINE (helper: channels)
    path("my/notifications/line/", line.link_start, name="line_link"),
    path("my/notifications/line/callback/", line.link_callback, name="line_callback"),
    path("my/notifications/line/unlink/", line.unlink, name="line_unlink"),
    path("notices/line/webhook/", line.webhook, name="line_webhook"),
    # web push (helper: web push)
    path("sw.js", push.service_worker, name="service_worker"),
    path("my/notifications/push/", push.subscribe, name="push_subscribe"),
    path("my/notifications/push/remove/", push.unsubscribe, name="push_unsubscribe"),
    path("notices/opened/<uuid:key>/", push.opened, name="opened"),
]
