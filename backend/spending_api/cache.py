"""Finished answers of the read endpoints, reused while the user's data is unchanged.

The key holds the user's `data_version`, which the database bumps in the same
transaction as every insert, update and delete of the user's transactions
(migration 0002) and at the commit of every change to their categories (0004: a
rename or a new kind changes /categories and /metrics), and which each request reads
with its identity (with the cache on, before the answer's own statement). A version is
read before the answer is computed, so an answer stored under it is at least
that new: the cache never serves data older than what the database held when
the request began, and it needs no invalidation. Old versions age out of the LRU.
"""

import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import Request, Response

from spending_api.auth.identity import UserIdentity
from spending_api.deps import TokenLogin

# The size of a key and an entry's bookkeeping, charged on top of the body.
ENTRY_OVERHEAD_BYTES = 512


@dataclass(frozen=True)
class CachedAnswer:
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.body) + ENTRY_OVERHEAD_BYTES

    def response(self) -> Response:
        return Response(self.body, media_type="application/json", headers=self.headers)


CacheKey = tuple[int, int, str, str]


class ResponseCache:
    """A least-recently-used map bounded in bytes; safe to share between threads."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[CacheKey, CachedAnswer] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def get(self, key: CacheKey) -> CachedAnswer | None:
        with self._lock:
            answer = self._entries.get(key)
            if answer is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return answer

    def put(self, key: CacheKey, answer: CachedAnswer) -> None:
        if answer.size > self.max_bytes // 8:
            return  # one huge answer must not flush everyone else's
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= previous.size
            self._entries[key] = answer
            self._bytes += answer.size
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size


async def cached_answer(
    request: Request,
    user: UserIdentity,
    produce: Callable[[], Awaitable[CachedAnswer]],
    *,
    query: str,
) -> Response:
    """The stored answer for this user, data version, path and `query` (the validated
    parameters, so that junk or reordered query strings share one entry), or
    `produce()`'s."""
    cache: ResponseCache | None = request.app.state.response_cache
    if cache is None:
        return (await produce()).response()
    key = (user.id, user.data_version, request.url.path, query)
    answer = cache.get(key)
    if answer is None:
        answer = await produce()
        cache.put(key, answer)
    return answer.response()


async def checked_answer(
    request: Request,
    login: TokenLogin,
    produce: Callable[[], Awaitable[CachedAnswer]],
    *,
    query: str,
) -> Response:
    """As cached_answer, for a route whose `produce()` checks the token in its own
    statement (and refuses it): with the cache off, that is the request's one round trip;
    with it on, the key needs the user's data version first, so the user is looked up
    before (and `produce()`, on a miss, checks again)."""
    if request.app.state.response_cache is None:
        return (await produce()).response()
    return await cached_answer(request, await login.user(), produce, query=query)
