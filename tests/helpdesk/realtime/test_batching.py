"""GroupCommit: writes that arrive while a batch is written go together, grouped by workspace;
each workspace's answers go back to its own callers; a workspace's failure is only its own."""

from __future__ import annotations

import asyncio
import threading
import zlib

from django_tenants.utils import tenant_context

from helpdesk.realtime.batching import GroupCommit
from tenants.agents.models import User
from tenants.connection import connection
from tests.helpdesk.realtime.wsclient import run


class Recorder:
    """A store that answers each item with its workspace owner's name, read in that workspace's
    schema, and remembers its calls (one per batch: each workspace's schema and items).

    The first call can be held (in its database thread) until the test lets it go, so that
    writes arrive while a batch is being written. A workspace named by `fail_in` fails.
    """

    def __init__(self, *, hold_first: bool = False, fail_in: str | None = None):
        self.calls: list[list[tuple[str, list[str]]]] = []
        self.release = threading.Event()
        self.entered = threading.Event()
        self.hold_first = hold_first
        self.fail_in = fail_in

    def __call__(self, batch: list) -> list[list[str] | Exception]:
        self.calls.append([(tenant.schema_name, list(items)) for tenant, items in batch])
        if self.hold_first and len(self.calls) == 1:
            self.entered.set()
            assert self.release.wait(timeout=10)
        results: list[list[str] | Exception] = []
        for tenant, items in batch:
            if tenant.schema_name == self.fail_in:
                results.append(RuntimeError("this workspace's database is unhappy"))
                continue
            with tenant_context(tenant):
                assert connection.schema_name == tenant.schema_name
                owner = User.objects.get(role=User.Role.OWNER).name
            results.append([f"{item}@{owner}" for item in items])
        return results


async def _while_held(batcher, store, first: tuple, later: list[tuple]) -> tuple[str, list]:
    """Submit `first`; while its batch is being written, submit `later`; then let it finish.
    Returns the first answer and the later answers (or exceptions), in order."""
    first_answer = asyncio.ensure_future(batcher.submit(*first))
    await asyncio.to_thread(store.entered.wait, 10)
    waiting = [asyncio.ensure_future(batcher.submit(*item)) for item in later]
    await asyncio.sleep(0.05)
    store.release.set()
    return await first_answer, await asyncio.gather(*waiting, return_exceptions=True)


def test_writes_arriving_during_a_batch_are_written_together_next(workspaces):
    a, _ = workspaces
    store = Recorder(hold_first=True)
    batcher: GroupCommit[str, str] = GroupCommit(store)

    first, later = run(
        _while_held(batcher, store, (a.tenant, "m0"), [(a.tenant, f"m{n}") for n in range(1, 6)])
    )

    assert first == "m0@Ann Acme"
    assert later == [f"m{n}@Ann Acme" for n in range(1, 6)]
    schema = a.tenant.schema_name
    assert store.calls == [[(schema, ["m0"])], [(schema, ["m1", "m2", "m3", "m4", "m5"])]]


def test_a_batch_groups_writes_by_workspace_and_answers_go_back_in_order(workspaces):
    a, b = workspaces
    store = Recorder(hold_first=True)
    batcher: GroupCommit[str, str] = GroupCommit(store)

    _, answers = run(
        _while_held(
            batcher,
            store,
            (a.tenant, "warm-up"),
            [(a.tenant, "a1"), (b.tenant, "b1"), (a.tenant, "a2")],
        )
    )

    assert answers == ["a1@Ann Acme", "b1@Gus Globex", "a2@Ann Acme"]
    # One call for both workspaces, each with its own writes in arrival order.
    assert store.calls[1:] == [
        [(a.tenant.schema_name, ["a1", "a2"]), (b.tenant.schema_name, ["b1"])]
    ]


def test_one_workspaces_failure_fails_only_its_own_writes(workspaces):
    a, b = workspaces
    store = Recorder(hold_first=True, fail_in=b.tenant.schema_name)
    batcher: GroupCommit[str, str] = GroupCommit(store)

    async def scenario():
        _, results = await _while_held(
            batcher, store, (a.tenant, "warm-up"), [(a.tenant, "a1"), (b.tenant, "b1")]
        )
        # The queue keeps working after a failure.
        return results, await batcher.submit(a.tenant, "a2")

    (ours, theirs), after = run(scenario())

    assert ours == "a1@Ann Acme"
    assert isinstance(theirs, RuntimeError)
    assert after == "a2@Ann Acme"


def test_a_caller_that_goes_away_does_not_stop_its_write_or_the_queue(workspaces):
    a, _ = workspaces
    store = Recorder(hold_first=True)
    batcher: GroupCommit[str, str] = GroupCommit(store)

    async def scenario():
        first = asyncio.ensure_future(batcher.submit(a.tenant, "m0"))
        await asyncio.to_thread(store.entered.wait, 10)
        gone = asyncio.ensure_future(batcher.submit(a.tenant, "closed-socket"))
        await asyncio.sleep(0.01)
        gone.cancel()  # the socket closed while its message waited
        stays = asyncio.ensure_future(batcher.submit(a.tenant, "m1"))
        await asyncio.sleep(0.05)
        store.release.set()
        return await first, await stays, await batcher.submit(a.tenant, "m2")

    assert run(scenario()) == ("m0@Ann Acme", "m1@Ann Acme", "m2@Ann Acme")
    written = [item for call in store.calls for _, items in call for item in items]
    assert written == ["m0", "closed-socket", "m1", "m2"]


def test_lanes_write_side_by_side_and_each_workspace_keeps_its_order(workspaces):
    a, b = workspaces
    schemas = (a.tenant.schema_name, b.tenant.schema_name)
    # Enough lanes for the two workspaces to take different ones.
    lanes = next(n for n in range(2, 20) if len({zlib.crc32(s.encode()) % n for s in schemas}) == 2)
    store = Recorder(hold_first=True)
    batcher: GroupCommit[str, str] = GroupCommit(store, lanes=lanes)
    assert batcher.lane(schemas[0]) != batcher.lane(schemas[1])

    async def scenario():
        held = asyncio.ensure_future(batcher.submit(a.tenant, "a0"))
        await asyncio.to_thread(store.entered.wait, 10)
        # Acme's lane is busy writing; Globex's is not held up by it.
        other = await asyncio.wait_for(batcher.submit(b.tenant, "b0"), 5)
        behind = asyncio.ensure_future(batcher.submit(a.tenant, "a1"))
        await asyncio.sleep(0.05)
        waited = not behind.done()  # Acme's next write waits for Acme's batch
        store.release.set()
        return await held, other, waited, await behind

    assert run(scenario()) == ("a0@Ann Acme", "b0@Gus Globex", True, "a1@Ann Acme")
    acme = [items for call in store.calls for schema, items in call if schema == schemas[0]]
    assert acme == [["a0"], ["a1"]]
