#!/bin/sh
# Regenerate src/pb/ (TypeScript types for proto/) with proto-loader-gen-types.
# The options MUST equal PROTO_LOADER_OPTIONS in src/api/v3/proto.ts (the runtime loader):
#   keepCase (etcd's field names), longs=String (64-bit ids exceed 2^53), enums=String,
#   bytes=Buffer, defaults, oneofs.
set -eu
cd "$(dirname "$0")/.."
rm -rf src/pb
node_modules/.bin/proto-loader-gen-types \
  --keepCase --longs=String --enums=String --bytes=Buffer --defaults --oneofs \
  --grpcLib=@grpc/grpc-js --importFileExtension=.js \
  -I proto -O src/pb \
  rpc.proto kv.proto auth.proto v3lock.proto v3election.proto health.proto
# kv.proto and auth.proto hold no services; their root files would only repeat types that
# rpc.ts already reaches (and trip noUnusedLocals), so drop them.
rm -f src/pb/kv.ts src/pb/auth.ts
