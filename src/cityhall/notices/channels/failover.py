"""Failover and rate limits shared by the channels.

:class:`FailoverSender` holds a channel's providers in order of preference. A batch goes
to the first provider that is not cooling down; a provider that raises
:class:`~.base.ProviderDown` is passed over for ``NOTICES_PROVIDER_COOLDOWN`` seconds and
the rest of the batch goes to the next one. The cool-down is kept in Django's cache so
every worker of the installation agrees (with the per-process ``locmem`` cache each
process decides alone, which is still correct, only slower to learn).

A provider that fails part-way through a batch raises :class:`PartialProviderDown` with
the outcomes of the items it did handle; only the others go to the next provider.

:class:`TokenBucket` is the rate limit: ``rate`` tokens per second per worker, at most
``burst`` saved up; ``rate = 0`` means no limit. It takes its clock and sleep from the
constructor so tests count tokens instead of timing anything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from django.conf import settings
from django.core.cache import cache

from cityhall.notices.channels.base import Outcome, Outgoing, Provider, ProviderDown

log = logging.getLogger(__name__)


class PartialProviderDown(ProviderDown):
    """The provider went down after handling some items: their ``outcomes`` stand."""

    def __init__(self, message: str, outcomes: Sequence[Outcome]) -> None:
        super().__init__(message)
        self.outcomes = list(outcomes)


class TokenBucket:
    """``rate`` tokens a second, up to ``burst`` in hand (default: one second's worth)."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, self.rate))
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._stamp = clock()
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self.taken = 0  # tokens handed out (for tests and metrics)
        self.waited = 0.0  # seconds spent waiting

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def pause(self, seconds: float) -> None:
        """Hand out nothing for ``seconds`` (the provider said: slow down)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def take(self, count: int = 1) -> None:
        """Block until ``count`` tokens are available, then use them."""
        if count <= 0:
            return
        with self._lock:
            pause = self._paused_until - self._clock()
            if pause > 0:
                self.waited += pause
                self._sleep(pause)
            if self.rate <= 0:
                self.taken += count
                return
            now = self._clock()
            self._refill(now)
            self._tokens -= count
            self.taken += count
            if self._tokens < 0:
                wait = -self._tokens / self.rate
                self.waited += wait
                self._sleep(wait)
                self._refill(self._clock())


def _cooldown_key(channel: str, provider: str) -> str:
    return f"notices:provider-down:{channel}:{provider}"


def cooling_down(channel: str, provider: str) -> bool:
    return bool(cache.get(_cooldown_key(channel, provider)))


def mark_down(channel: str, provider: str, seconds: int | None = None) -> None:
    seconds = settings.NOTICES_PROVIDER_COOLDOWN if seconds is None else seconds
    if seconds > 0:
        cache.set(_cooldown_key(channel, provider), time.time() + seconds, timeout=seconds)


def mark_up(channel: str, provider: str) -> None:
    cache.delete(_cooldown_key(channel, provider))


class FailoverSender:
    """A channel sender over ordered providers (subclasses build ``providers``)."""

    channel: str = ""
    idempotent: bool = False

    def __init__(self, providers: Sequence[Provider]) -> None:
        self.providers = list(providers)
        #: Idempotent only when every provider is (a retry may land on any of them).
        self.idempotent = all(provider.idempotent for provider in self.providers)

    def addresses(self, user_ids: Sequence[int]) -> dict[int, list[str]]:  # pragma: no cover
        raise NotImplementedError

    def send(self, batch: Sequence[Outgoing]) -> list[Outcome]:
        """One outcome per item, in the batch's order."""
        remaining = list(batch)
        done: dict[str, Outcome] = {}
        last_error = "no provider is configured"
        last_name = ""
        for provider in self.providers:
            if not remaining:
                break
            last_name = provider.name
            if cooling_down(self.channel, provider.name):
                last_error = f"{provider.name} is cooling down after a failure"
                continue
            try:
                outcomes = provider.send(remaining)
            except ProviderDown as exc:
                log.warning("%s provider %s is down: %s", self.channel, provider.name, exc)
                mark_down(self.channel, provider.name)
                last_error = f"{provider.name}: {exc}"[:400]
                for outcome in getattr(exc, "outcomes", []):
                    done[outcome.key] = outcome
                remaining = [item for item in remaining if item.key not in done]
                continue
            for outcome in outcomes:
                done[outcome.key] = outcome
            remaining = [item for item in remaining if item.key not in done]
        for item in remaining:  # every provider down or cooling: a passing failure
            done[item.key] = Outcome(item.key, False, last_name, error=last_error)
        return [done[item.key] for item in batch]
