"""Stub: replaced by its owner."""

from typing import Any

from django.contrib.syndication.views import Feed
from django.http import Http404


class RssFeed(Feed):
    def items(self) -> list[Any]:
        return []


class AtomFeed(RssFeed):
    pass


def json_feed(request: Any) -> Any:
    raise Http404
