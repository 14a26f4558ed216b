"""Prometheus metrics for operators: routing, fail-safes, versions, and the queue.

``ServiceMetrics`` is what ``GET /metrics`` on ``triage serve`` exposes; ``QueueCollector``
reads the queue's state from the database at each scrape, so any process that can reach the
database (the service, the relay) reports the same queue. No metric carries message text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, Info, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from policies.decision import Decision
from review_queue.queue_state import queue_state
from review_queue.store import CaseStore
from triage.facade import Triage

log = logging.getLogger(__name__)

_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class QueueCollector(Collector):
    """Queue gauges read from the database at scrape time.

    ``triage_queue_up`` is 0 when the database cannot be read; the other queue gauges are then
    left out rather than reported as zero.
    """

    def __init__(self, store: CaseStore) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        """The gauges, one family each."""
        spool = GaugeMetricFamily(
            "triage_spool_bytes", "Bytes of cases spooled to disk while the database was down."
        )
        spool.add_metric([], float(self.store.spool.size_bytes()))
        yield spool
        up = GaugeMetricFamily("triage_queue_up", "1 when the queue's database could be read.")
        try:
            state = queue_state(self.store)
        except Exception as exc:  # a scrape must answer even when the database does not
            log.error("queue state unavailable: %s", type(exc).__name__)
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        for name, doc, values in (
            ("triage_queue_depth", "Open cases (queued or escalated) by tier.", state.depth),
            (
                "triage_queue_oldest_unclaimed_seconds",
                "Age of the oldest queued case nobody has claimed, by tier.",
                state.oldest_unclaimed_s,
            ),
            (
                "triage_queue_sla_breached",
                "Open cases past their SLA deadline, by tier.",
                state.sla_breached,
            ),
        ):
            family = GaugeMetricFamily(name, doc, labels=["tier"])
            for tier, value in sorted(values.items()):
                family.add_metric([tier], float(value))
            yield family
        pending = GaugeMetricFamily("triage_outbox_pending", "Cases not yet published to workers.")
        pending.add_metric([], float(state.outbox_pending))
        yield pending
        lag = GaugeMetricFamily(
            "triage_relay_lag_seconds", "Age of the oldest case not yet published to workers."
        )
        lag.add_metric([], state.outbox_oldest_s)
        yield lag
        for name, doc, total in (
            (
                "triage_sla_breaches",
                "SLA breaches recorded in the audit trail (the relay's checks).",
                state.sla_breaches_recorded,
            ),
            (
                "triage_dead_lettered",
                "Cases escalated after too many worker deliveries (audit trail).",
                state.dead_lettered,
            ),
        ):
            counter = CounterMetricFamily(name, doc)
            counter.add_metric([], float(total))
            yield counter


class ServiceMetrics:
    """Counters and histograms of one service process, in a registry of its own."""

    def __init__(self, triage: Triage, registry: CollectorRegistry | None = None) -> None:
        self.triage = triage
        self.registry = registry or CollectorRegistry()
        self.route_seconds = Histogram(
            "triage_route_seconds",
            "Time to answer a routing request, decisions persisted.",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.decisions = Counter(
            "triage_decisions",
            "Decisions by action and risk tier.",
            ["action", "tier"],
            registry=self.registry,
        )
        self.fail_safes = Counter(
            "triage_fail_safe",
            "Fail-safe decisions by cause (model_error, policy_error, internal_error, ...).",
            ["cause"],
            registry=self.registry,
        )
        self.versions = Info(
            "triage_build", "The policy and models in force.", registry=self.registry
        )
        self.registry.register(QueueCollector(triage.store))

    def observe(self, endpoint: str, seconds: float, decisions: Sequence[Decision]) -> None:
        """Count one answered request."""
        self.route_seconds.labels(endpoint).observe(seconds)
        for d in decisions:
            self.decisions.labels(d.action, d.tier).inc()
            for reason in d.reasons:
                if reason.startswith("fail_safe:"):
                    self.fail_safes.labels(reason.removeprefix("fail_safe:")).inc()

    def exposition(self) -> bytes:
        """The text format a Prometheus server scrapes."""
        s = self.triage.settings
        self.versions.info(
            {
                "policy_version": self.triage.policy.version,
                "crisis_model": str(s.crisis_model),
                "support_model": str(s.support_model),
            }
        )
        return generate_latest(self.registry)
