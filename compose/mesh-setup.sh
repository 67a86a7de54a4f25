#!/bin/sh
# Run once by compose's `mesh-setup` service, after the control plane is healthy: apply
# the examples (registrations, sidecar configurations, policies), then write one Envoy
# bootstrap per sample instance into /bootstrap, where each sidecar container reads it.
# Ports: the inbound listener is the registered port, the app listens on the next one,
# and every sidecar shares its app's network namespace (so 127.0.0.1 is the app).
set -eu

lucid apply -f /examples/services /examples/policies

boot() {
    instance=$1
    shift
    lucid bootstrap --instance "$instance" --xds-address control-plane:18000 \
        --admin-port 9901 --outbound-port 15001 "$@" >"/bootstrap/$instance.yaml.tmp"
    mv "/bootstrap/$instance.yaml.tmp" "/bootstrap/$instance.yaml"
    echo "wrote /bootstrap/$instance.yaml"
}

boot api-gateway-01 --service api-gateway --inbound-port 8080 --app-port 8081 --edge-port 10000
boot blockchain-core-01 --service blockchain-core --inbound-port 8084 --app-port 8085
boot blockchain-core-02 --service blockchain-core --inbound-port 8084 --app-port 8085
boot session-recorder-01 --service session-recorder --inbound-port 8085 --app-port 8086
boot tron-payment-01 --service tron-payment-service --inbound-port 8443 --app-port 8444
