"""Fixtures for cache and session unit tests: small hand-made resources (the translators
are tested elsewhere; here only their shape matters)."""

from __future__ import annotations

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2
from google.protobuf.message import Message

from lucid.xds.resources import CLUSTER, ENDPOINT, SECRET, TypeUrl


def cluster(name: str, timeout: int = 1) -> cluster_pb2.Cluster:
    found = cluster_pb2.Cluster(name=name)
    found.connect_timeout.seconds = timeout
    return found


def assignment(name: str) -> endpoint_pb2.ClusterLoadAssignment:
    return endpoint_pb2.ClusterLoadAssignment(cluster_name=name)


def secret(name: str) -> secret_pb2.Secret:
    return secret_pb2.Secret(name=name)


def resources(*clusters: str, secrets: tuple[str, ...] = ()) -> dict[TypeUrl, dict[str, Message]]:
    return {
        CLUSTER: {n: cluster(n) for n in clusters},
        ENDPOINT: {n: assignment(n) for n in clusters},
        SECRET: {n: secret(n) for n in secrets},
    }
