#!/usr/bin/env bash
# kafka-topics.sh, for tools that shell out to Kafka's scripts (librdkafka's test suite runs
# $KAFKA_PATH/bin/kafka-topics.sh; point KAFKA_PATH at tools/kafka-bin): the same flags, run by
# `samsa topics`. SAMSA overrides the command (default: the Release build of src/Samsa.Cli).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
if [ -n "${SAMSA:-}" ]; then
    read -r -a samsa <<< "$SAMSA"
else
    samsa=(dotnet "$repo/src/Samsa.Cli/bin/Release/net10.0/samsa.dll")
fi
exec "${samsa[@]}" topics "$@"
