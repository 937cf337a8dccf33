#!/usr/bin/env bash
# Differential check of the HTTP surface: run the same curl transcript against real etcd 3.4.23 and
# against us, normalise what legitimately differs (ids, raft term, URLs, lease TTL countdown,
# Date/Connection headers) and diff. Manual tool, not part of `vitest run`:
#   ./test/unit/api-http/diff-against-etcd.sh http://127.0.0.1:ETCD_PORT http://127.0.0.1:OUR_PORT
# Both members must be fresh single-member clusters (the transcript writes keys and compacts).
set -u
transcript() {
  p(){ echo "### $1 $2"; curl -s -X POST $E$1 -d "$2" -w ' [%{http_code}]'; echo; }
  p /v3/kv/put '{"key":"Zm9v","value":"YmFy"}'
  p /v3/kv/put '{"key":"Zm9v","value":"YmF6","prev_kv":true}'
  p /v3/kv/range '{"key":"Zm9v"}'
  p /v3/kv/range '{"key":"bm9uZQ=="}'
  p /v3/kv/range '{}'
  p /v3/kv/range 'not json'
  p /v3/kv/range '{"key":"!!!"}'
  p /v3/kv/range '{"key":"Zm9v","sort_order":"BOGUS"}'
  p /v3/kv/put '{"key":"Zm9vMQ==","value":"MQ=="}'
  p /v3/kv/range '{"key":"Zm9v","range_end":"Zm9w","limit":1,"sort_order":"DESCEND","sort_target":"KEY"}'
  p /v3/kv/range '{"key":"Zm9v","range_end":"Zm9w","limit":"1","sort_order":2,"keys_only":true}'
  p /v3/kv/range '{"key":"Zm9v","range_end":"Zm9w","sortOrder":"ASCEND","countOnly":true}'
  p /v3/kv/range '{"key":"Zm9v","revision":100}'
  p /v3/kv/deleterange '{"key":"Zm9vMQ==","prev_kv":true}'
  p /v3/kv/deleterange '{"key":"eHh4"}'
  p /v3/kv/compaction '{"revision":"2"}'
  p /v3/kv/compaction '{"revision":"2"}'
  p /v3/kv/range '{"key":"Zm9v","revision":1}'
  p /v3/kv/txn '{"compare":[{"key":"Zm9v","result":"EQUAL","target":"VALUE","value":"YmF6"}],"success":[{"request_put":{"key":"Zm9v","value":"cXV4"}},{"request_range":{"key":"Zm9v"}}],"failure":[{"request_delete_range":{"key":"Zm9v"}}]}'
  p /v3/kv/txn '{"compare":[{"key":"Zm9v","result":"EQUAL","target":"VALUE","value":"YmF6"}],"success":[{"request_put":{"key":"Zm9v","value":"cXV4"}}],"failure":[{"requestRange":{"key":"Zm9v"}},{"request_delete_range":{"key":"bm8="}}]}'
  p /v3/kv/txn '{"compare":[{"key":"Zm9v","target":"CREATE","createRevision":"0","result":"GREATER"}],"success":[{"request_txn":{}}]}'
  p /v3/kv/txn '{}'
  p /v3/kv/txn '{"success":[{"request_put":{"key":"YQ=="}},{"request_put":{"key":"YQ=="}}]}'
  p /v3/lease/grant '{"TTL":30,"ID":1234}'
  p /v3/lease/grant '{"TTL":30,"ID":1234}'
  p /v3/kv/put '{"key":"bGs=","value":"dg==","lease":1234}'
  p /v3/lease/timetolive '{"ID":"1234","keys":true}'
  p /v3/lease/timetolive '{"ID":99}'
  p /v3/lease/leases '{}'
  p /v3/kv/lease/leases '{}'
  p /v3/lease/revoke '{"ID":99}'
  p /v3/kv/lease/revoke '{"ID":1234}'
  p /v3/cluster/member/list '{}'
  p /v3/auth/authenticate '{"name":"root","password":"x"}'
  p /v3beta/kv/range '{"key":"Zm9v"}'
  p /v3alpha/kv/range '{"key":"Zm9v"}'
  p /v3/kv/nothing '{}'
  p /v3/lease/grant '{"TTL":30,"ID":555}'
  p /v3/lease/keepalive '{"ID":555}{"ID":555}'
  p /v3/lease/keepalive '{"ID":556}'
  p /v3/lease/keepalive 'junk'
  p /v3/watch 'junk'
  echo "### watch"; curl -s -N -X POST $E/v3/watch -d '{"create_request":{"key":"Zm9v","start_revision":2}}{"create_request":{"key":"YQ=="}}{"cancel_request":{"watch_id":1}}{"progress_request":{}}' --max-time 1.5; echo
  echo "### watch compacted"; curl -s -N -X POST $E/v3/watch -d '{"create_request":{"key":"Zm9v","start_revision":1}}' --max-time 1; echo
  echo "### health"; curl -s $E/health -w ' [%{http_code}]'; echo
  echo "### version"; curl -s $E/version -w ' [%{http_code}]'; echo
  echo "### live watch"; (curl -s -N -X POST $E/v3/watch -d '{"create_request":{"key":"d2s=","prev_kv":true}}{"create_request":{"key":"d2s=","range_end":"d2t=","filters":["NOPUT"],"watch_id":5}}' --max-time 2 &) ; sleep 0.5
  curl -s -XPOST $E/v3/kv/put -d '{"key":"d2s=","value":"MQ=="}' >/dev/null; curl -s -XPOST $E/v3/kv/put -d '{"key":"d2s=","value":"Mg=="}' >/dev/null; curl -s -XPOST $E/v3/kv/deleterange -d '{"key":"d2s="}' > /dev/null; sleep 2; echo
  echo "### 405"; curl -s -i $E/v3/kv/range | grep -iE '^(HTTP|content-type|allow)'; curl -s $E/v3/kv/range; curl -s -i -XPOST $E/health | grep -iE '^(HTTP|content-type|allow)'
  echo "### 404"; curl -s -i $E/nothing | grep -iE '^(HTTP|content-type)'; curl -s $E/nothing
  echo "### options"; curl -s -i -X OPTIONS $E/v3/kv/range | grep -iE '^(HTTP|content-length|access)'
  echo "### unknown token"; curl -s -XPOST $E/v3/kv/range -d '{"key":"Zm9v"}' -H 'Authorization: abc' -w ' [%{http_code}]'; echo
  echo "### hash"; curl -s -XPOST $E/v3/maintenance/hash -d '{}' | sed -E 's/"hash":[0-9]+/"hash":H/'; echo
  echo "### alarm get"; curl -s -XPOST $E/v3/maintenance/alarm -d '{}'; echo
  echo "### decode"; for b in '{"key":1}' '{"key":"Zm9v","limit":true}' '{"key":"Zm9v","limit":1.5}' '{"key":"Zm9v","keys_only":"true"}' '[]' '{"key":"Zm9v"' '{"key":"Zm9v","limit":"1e2"}' '{"key":"Zm9v","limit":" 1"}' '{"key":"Zm9v"} x' '{"key" "x"}' '{"key":"a"]' '{,}' 'tru' '{"key":"Zm9v","limit":-}' ; do curl -s -XPOST $E/v3/kv/range -d "$b" -w ' [%{http_code}]' | sed -E 's/"revision":"[0-9]+"/"revision":R/'; echo; done
}
norm() {
  sed -E 's/"(cluster_id|member_id|ID|leader)":"[0-9]+"/"\1":"N"/g; s/"raft_term":"[0-9]+"/"raft_term":"T"/g;
    s/"(peerURLs|clientURLs)":\["[^"]*"\]/"\1":["U"]/g; s/"TTL":"2[0-9]"/"TTL":"2x"/g;
    s/^(date|Date|Connection|Keep-Alive):.*//; s/^([A-Za-z-]+):/\L\1:/'   # header names are case-insensitive
}
diff <(E=$1 transcript | norm) <(E=$2 transcript | norm) && echo "no differences"
