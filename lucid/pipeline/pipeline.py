"""The push pipeline: store changes → debounce → translation → cache → the streams that care.

One `Pipeline` runs inside `lucid serve`. It follows the store's change feed (ignoring
collections translation never reads, such as the event stream its own ACK events go to),
debounces bursts (`debounce.py`), re-reads the changed documents (`loader.py`), builds an
immutable `MeshState` with the mesh CA's identities, and translates it incrementally on
top of the previous `Translation`. Each watched node's resources are checked for dangling
references (`Translation.check`) and interned into a snapshot; `SnapshotCache.publish`
then wakes only the nodes whose views changed. A node that fails translation or the
check keeps its last good snapshot, and the error is logged.

Translation runs in a worker thread so the event loop keeps serving ACKs meanwhile. It
starts with the first batch of a debounce group, while the debouncer still waits for
quiet: when the group closes only later changes remain to translate, so a lone change is
pushed as soon as the debounce allows. While a round runs (from its first change), a newly
connected node is left pending and translated right after it, on the new state. Every
`renew_interval` a round runs even without changes, so workload certificates nearing
expiry are renewed and pushed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from lucid.ca import CertificateAuthority
from lucid.pipeline.debounce import DebounceConfig, Debouncer
from lucid.pipeline.loader import POLICIES, Loader, relevant
from lucid.store import Change, Store
from lucid.store.feed import follow
from lucid.translators.mesh import Resources, Translation
from lucid.translators.node import Node
from lucid.translators.state import MeshState, build_state
from lucid.xds.cache import Snapshot, SnapshotCache
from lucid.xds.server.metrics import XdsMetrics

log = logging.getLogger(__name__)

DEFAULT_RENEW_INTERVAL = 600.0  # seconds between rounds when nothing changes

Computed = tuple[Translation, dict[Node, Snapshot]]  # a translation and the snapshots it made


class Pipeline:
    name = "xds-pipeline"

    def __init__(
        self,
        store: Store,
        cache: SnapshotCache,
        *,
        ca: CertificateAuthority | None = None,
        metrics: XdsMetrics | None = None,
        debounce: DebounceConfig | None = None,
        renew_interval: float = DEFAULT_RENEW_INTERVAL,
    ) -> None:
        self.store = store
        self.cache = cache
        self.ca = ca
        self.metrics = metrics
        self.renew_interval = renew_interval
        self.loader = Loader(store)
        self.debouncer: Debouncer[Change] = Debouncer(debounce or DebounceConfig())
        self.translation: Translation | None = None
        # Policy documents (collection, key) whose change last altered each service's
        # nodes: a NACK from one of them is laid at their door (`culprits`).
        self._culprits: dict[str, tuple[tuple[str, str], ...]] = {}
        # Snapshots built from `_built_for`, by the identity of the node view they hold.
        self._built_for: Translation | None = None
        self._built: dict[int, tuple[Resources, Snapshot]] = {}
        self.rounds = 0
        self._busy = False
        self._since = 0
        self._published = -1  # newest store revision the published snapshots include
        self._settled = asyncio.Condition()
        self._stopping = asyncio.Event()
        cache.resolver = self.resolve

    # -- the cache's resolver ------------------------------------------------------------------

    def resolve(self, node: Node) -> Snapshot | None:
        """A new node's snapshot now, or None (pending) while a round is running."""
        if self._busy or self.translation is None:
            return None
        return self._snapshots(self.translation, [node], stamp=None).get(node)

    # -- the component -------------------------------------------------------------------------

    async def run(self) -> None:
        follower: asyncio.Task[None] | None = None
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            await self._round([], stamp=None, full=True)
            follower = asyncio.create_task(self._follow())
            while not self._stopping.is_set():
                waiting = asyncio.create_task(self.debouncer.first(self.renew_interval))
                await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not waiting.done():
                    waiting.cancel()
                    break
                got = waiting.result()
                if got is None:  # quiet for renew_interval: renew certificates
                    await self._round([], stamp=None)
                    continue
                head, since = got
                # Translate the first batch while the debounce waits for quiet: a lone
                # change (the common case) is then ready to push the moment quiet is
                # reached, and a burst translates only what came after it, on top.
                early = self._start_early(head, since) if relevant(head) else None
                gathering = asyncio.create_task(self.debouncer.rest(since))
                await asyncio.wait({gathering, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not gathering.done():
                    gathering.cancel()
                    break
                changes = head + gathering.result()
                if early is not None or relevant(changes):
                    await self._round(changes, stamp=since, early=early, head=len(head))
                else:  # only events or messages changed: nothing to translate
                    self._published = max(self._published, changes[-1].revision)
                    await self._notify()
        finally:
            stopping.cancel()
            if follower is not None:
                follower.cancel()

    def stop(self) -> None:
        self._stopping.set()

    @property
    def busy(self) -> bool:
        """Whether a round is under way: from the first change of a debounce group (its
        translation starts then) until its snapshots are published."""
        return self._busy

    async def settled(self, revision: int) -> None:
        """Wait until every change up to `revision` has been translated and published."""
        async with self._settled:
            await self._settled.wait_for(lambda: self._covers(revision))

    def _covers(self, revision: int) -> bool:
        return self._published >= revision

    async def _notify(self) -> None:
        async with self._settled:
            self._settled.notify_all()

    async def _follow(self) -> None:
        async for batch in follow(self.store, since=self._since):
            self.debouncer.put(batch)

    # -- rounds --------------------------------------------------------------------------------

    def _start_early(self, changes: list[Change], stamp: float) -> asyncio.Task[Computed]:
        """Translate `changes`, the first batch of a debounce group, in a worker thread
        now; `_round` publishes the result when the group closes. Nodes that connect
        meanwhile wait (pending) and are translated once the round is published."""
        self._busy = True
        nodes = self.cache.nodes()
        previous = self.translation
        return asyncio.create_task(
            asyncio.to_thread(self._compute, changes, nodes, stamp, False, previous)
        )

    async def _round(
        self,
        changes: list[Change],
        *,
        stamp: float | None,
        full: bool = False,
        early: asyncio.Task[Computed] | None = None,
        head: int = 0,
    ) -> None:
        """Translate and publish one debounced group of changes. With `early`, the first
        `head` changes are being translated already: the rest (if any) is translated on
        top of that, and the snapshots of both are published together. If the early
        translation failed, every change is translated again from the last published
        state (a later change of the group may have mended what failed)."""
        self._busy = True
        covered = max((c.revision for c in changes), default=-1)
        started = time.perf_counter()
        outcome = "failed"
        try:
            nodes = self.cache.nodes()
            previous, todo = self.translation, changes
            snapshots: dict[Node, Snapshot] = {}
            if early is not None:
                try:
                    previous, snapshots = await early
                    todo = changes[head:]
                except Exception:
                    log.exception("translating the first change(s) failed; trying the group")
            translation = previous
            if todo or early is None:
                translation, more = await asyncio.to_thread(
                    self._compute, todo, nodes, stamp, full, previous
                )
                # Services `more` leaves out have the same views in both translations.
                snapshots = {**snapshots, **more}
            assert translation is not None
            self.translation = translation
            woken = self.cache.publish(snapshots)
            outcome = "pushed" if woken else "unchanged"
            self._published = max(self._published, covered, self._since if full else -1)
            log.info(
                "push round: %d change(s), %d node(s), %d woken, %.1f ms",
                len(changes),
                len(nodes),
                woken,
                (time.perf_counter() - started) * 1000,
            )
        except Exception:
            log.exception("translation failed; proxies keep their last configuration")
        finally:
            self._busy = False
            self.rounds += 1
            if self.metrics is not None:
                self.metrics.rounds.labels(outcome).inc()
        self._publish_pending()
        await self._notify()

    def _publish_pending(self) -> None:
        """Nodes that connected while the round ran, translated on the new state."""
        pending = self.cache.pending()
        if pending and self.translation is not None:
            self.cache.publish(self._snapshots(self.translation, pending, stamp=None))

    def _compute(
        self,
        changes: list[Change],
        nodes: Sequence[Node],
        stamp: float | None,
        full: bool,
        previous: Translation | None,
    ) -> Computed:
        started = time.perf_counter()
        try:
            if full:
                self._since = self.loader.load_all()
            else:
                self.loader.apply(changes)
            translation = Translation(self._state(previous), previous=previous)
            affected = translation.affected_services()
            self._remember_culprits(changes, affected, translation)
            if affected is not None:
                # Every other node's view is unchanged (the same object): keep its snapshot.
                nodes = [node for node in nodes if node.service in affected]
            return translation, self._snapshots(translation, nodes, stamp=stamp, prepare=True)
        finally:
            if self.metrics is not None:
                self.metrics.translation.observe(time.perf_counter() - started)

    def _remember_culprits(
        self,
        changes: Sequence[Change],
        affected: frozenset[str] | None,
        translation: Translation,
    ) -> None:
        policies = tuple(
            sorted({(c.collection, c.key) for c in changes if c.collection == POLICIES})
        )
        if not policies:
            return
        services = affected if affected is not None else translation.state.services.keys()
        for service in services:
            self._culprits[service] = policies

    def culprits(self, node: Node) -> tuple[tuple[str, str], ...]:
        """The policy documents whose change last altered what `node` receives."""
        return self._culprits.get(node.service, ())

    def _state(self, translation: Translation | None) -> MeshState:
        inputs = self.loader.inputs()
        previous = translation.state if translation is not None else None
        state = build_state(
            inputs.registrations,
            inputs.sidecars,
            inputs.traffic,
            inputs.security,
            statuses=inputs.statuses,
            previous=previous,  # unchanged services keep their objects: O(1) comparison
        )
        if self.ca is None:
            return state
        # A service's identity is in the plane of its primary (lowest serviceId) instance.
        planes = {name: service.primary.plane for name, service in state.services.items()}
        return state.with_identities(self.ca.identities(planes), self.ca.trust_bundle())

    def _snapshots(
        self,
        translation: Translation,
        nodes: Sequence[Node],
        *,
        stamp: float | None,
        prepare: bool = False,
    ) -> dict[Node, Snapshot]:
        """Snapshots of `nodes`; nodes sharing one view (instances of a service, which
        translation gives the very same resources object) share one snapshot.

        A round (`prepare`) also builds and serializes every destination's cluster and
        load assignment, watched or not, for the first sidecar of a service that connects
        before the next round; a node translated between rounds adds to what it built."""
        if self._built_for is not translation:
            self._built_for, self._built = translation, {}
        out: dict[Node, Snapshot] = {}
        with self.cache.builder(adds=not prepare) as builder:
            if prepare:
                try:
                    builder.prepare(translation.shared_parts())
                except Exception:  # only a head start: the nodes below still get built
                    log.exception("building the destinations' shared resources failed")
            for node in nodes:
                try:
                    resources = translation.node(node)
                    translation.check(resources)
                except Exception as exc:  # one node's failure must not stop the others
                    log.error("node %s keeps its last configuration: %s", node.id, exc)
                    continue
                known = self._built.get(id(resources.resources))
                if known is None or known[0] is not resources.resources:
                    known = (
                        resources.resources,
                        builder.snapshot(resources.resources, stamp=stamp),
                    )
                    self._built[id(resources.resources)] = known
                out[node] = known[1]
        return out
