"""Type URLs name the real Envoy v3 messages, and the ADS order is make-before-break:
clusters, endpoints, secrets, listeners, routes; removals the other way round."""

from __future__ import annotations

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2

from lucid.xds import resources


def test_type_urls_name_the_v3_messages():
    for url, message in [
        (resources.CLUSTER, cluster_pb2.Cluster),
        (resources.ENDPOINT, endpoint_pb2.ClusterLoadAssignment),
        (resources.LISTENER, listener_pb2.Listener),
        (resources.ROUTE, route_pb2.RouteConfiguration),
        (resources.SECRET, secret_pb2.Secret),
    ]:
        assert url == "type.googleapis.com/" + message.DESCRIPTOR.full_name


def test_ads_order_puts_secrets_before_the_listeners_that_use_them():
    assert resources.ADS_ORDER == (
        resources.CLUSTER,
        resources.ENDPOINT,
        resources.SECRET,
        resources.LISTENER,
        resources.ROUTE,
    )
    assert tuple(reversed(resources.ADS_ORDER)) == resources.REMOVAL_ORDER


def test_unknown_types_sort_after_known_ones():
    unknown = resources.TypeUrl("type.googleapis.com/envoy.service.runtime.v3.Runtime")
    assert resources.order_of(unknown) > resources.order_of(resources.ROUTE)
