#!/usr/bin/env bash
# Builds the libFuzzer target for the HTTP request parser / chunked decoder / gzip inflater and runs it.
#   fuzz/run.sh [seconds]      (default 300)
# The seed corpus in fuzz/corpus/request is read-only input; new inputs go to fuzz/corpus-work
# (git-ignored). Crashes are written as fuzz/artifacts/crash-* (reproduce: fuzz/.build/request-fuzzer FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
mkdir -p fuzz/.build fuzz/corpus-work fuzz/artifacts
sources=(
  Sources/HTTP/HTTPParseError.swift Sources/HTTP/CharacterClasses.swift Sources/HTTP/HTTPHeaders.swift
  Sources/HTTP/RequestHead.swift Sources/HTTP/RequestParser.swift Sources/HTTP/RequestTarget.swift
  Sources/HTTP/ChunkedDecoder.swift Sources/HTTP/Gzip.swift
)
swiftc -O -g -parse-as-library -module-name HTTPFuzz -sanitize=fuzzer,address \
  -I Sources/CZlib -lz "${sources[@]}" fuzz/RequestFuzzer.swift -o fuzz/.build/request-fuzzer
fuzz/.build/request-fuzzer fuzz/corpus-work fuzz/corpus/request \
  -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix=fuzz/artifacts/ -print_final_stats=1
