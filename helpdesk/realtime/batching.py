"""Group commit for consumers: many sockets' writes in one trip to the database.

A socket's write awaits `GroupCommit.submit`. If no batch is being written, one starts with
that write alone; writes that arrive meanwhile wait and go together in the next one. An idle
server answers a write as fast as before; a busy one pays the fixed costs (a thread hop, a
transaction's round trips and commit, the ORM's compiling) once per batch instead of once per
write, and batches grow with the load. A batch holds several workspaces' writes, which go to
`store` together, grouped by workspace, in one trip to a database thread (`batch_db`).

With several `lanes`, each workspace's writes always take the same lane (by a hash of its
schema), and each lane writes its batches one after the other while the lanes write side by
side, on database threads of their own: a workspace's writes keep their arrival order, and
one lane's waits on PostgreSQL (round trips, the commit's flush) overlap another lane's work.
Lanes never touch the same rows, since a workspace is in one lane only.

`store([(tenant, items), ...])` is a synchronous service that enters each workspace's schema
itself and returns, for each workspace in order, either one result per item (in order; an item's
refusal is reported in its result) or the exception that failed that workspace's items. An
exception raised by `store` fails the whole batch.
"""

from __future__ import annotations

import asyncio
import weakref
import zlib
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from helpdesk.realtime.db import batch_db
from tenants.models import Tenant

I = TypeVar("I")  # noqa: E741 - item
R = TypeVar("R")


class _Queue(Generic[I, R]):
    def __init__(self) -> None:
        self.pending: list[tuple[Tenant, I, asyncio.Future[R]]] = []
        self.running = False


class GroupCommit(Generic[I, R]):
    def __init__(
        self,
        store: Callable[[list[tuple[Tenant, list[I]]]], list[list[R] | Exception]],
        *,
        max_batch: int = 200,
        lanes: int = 1,
    ):
        self.store = store
        self.max_batch = max_batch
        self.lanes = max(1, lanes)
        # One set of lanes per event loop: tests run a loop per test, and a queue must never
        # wait on a task of a loop that is gone.
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[_Queue[I, R]]] = (
            weakref.WeakKeyDictionary()
        )
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, tenant: Tenant, item: I) -> R:
        loop = asyncio.get_running_loop()
        lanes = self._queues.get(loop)
        if lanes is None:
            lanes = self._queues[loop] = [_Queue() for _ in range(self.lanes)]
        queue = lanes[self.lane(tenant.schema_name)]
        future: asyncio.Future[R] = loop.create_future()
        queue.pending.append((tenant, item, future))
        if not queue.running:
            queue.running = True
            task = loop.create_task(self._drain(queue))
            self._tasks.add(task)  # the loop keeps only weak references to tasks
            task.add_done_callback(self._tasks.discard)
        # A caller that goes away (its socket closed) cancels only its own wait: its item is
        # written with its batch, like a call already running in a database thread.
        return await future

    def lane(self, schema_name: str) -> int:
        """The lane of a workspace's writes: always the same one (crc32, not `hash`, which
        changes from one process start to the next)."""
        return zlib.crc32(schema_name.encode()) % self.lanes

    async def _drain(self, queue: _Queue[I, R]) -> None:
        try:
            while queue.pending:
                batch = queue.pending[: self.max_batch]
                del queue.pending[: self.max_batch]
                await self._write(batch)
        finally:
            queue.running = False

    async def _write(self, batch: list[tuple[Tenant, I, asyncio.Future[R]]]) -> None:
        by_schema: dict[str, tuple[Tenant, list[I], list[asyncio.Future[R]]]] = {}
        for tenant, item, future in batch:
            group = by_schema.setdefault(tenant.schema_name, (tenant, [], []))
            group[1].append(item)
            group[2].append(future)
        groups = list(by_schema.values())
        try:
            outcomes: list[Any] = await batch_db(
                self.store, [(tenant, items) for tenant, items, _ in groups]
            )
        except Exception as exc:
            outcomes = [exc] * len(groups)
        for (_, _, futures), outcome in zip(groups, outcomes, strict=True):
            for index, future in enumerate(futures):
                if future.done():
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome[index])
