// The v2 comparison scenario: every action, error code and parameter of /v2/keys, the members, stats
// and machines endpoints, bad input, and the ETCDCTL_API=2 etcdctl commands users type.
import type { Step } from './v2-transcript.js';

const form = (method: string, path: string, data: string, ...more: string[]): Step =>
  ({ curl: ['-X', method, path, '-d', data, ...more] });
const get = (path: string, ...more: string[]): Step => ({ curl: [path, ...more] });
const req = (method: string, path: string, ...more: string[]): Step => ({ curl: ['-X', method, path, ...more] });
const ctl = (...args: string[]): Step => ({ ctl: args });

export const V2_STEPS: readonly Step[] = [
  // a fresh member: root listing, hidden cluster namespace, headers
  get('/v2/keys/'), get('/v2/keys'), get('/v2/keys/0'), get('/v2/keys/1'),
  // set / get / create / update / POST
  form('PUT', '/v2/keys/foo', 'value=bar'),
  form('PUT', '/v2/keys/foo?value=q', 'value=b&value=c'),
  req('PUT', '/v2/keys/foo?value=fromquery', '-H', 'Content-Type: text/plain', '-d', 'value=ignored'),
  get('/v2/keys/foo'), req('HEAD', '/v2/keys/foo', '-I'), get('/v2/keys/foo?quorum=true'), get('/v2/keys/nokey?quorum=true'),
  form('PUT', '/v2/keys/foo?noValueOnSuccess=true', 'value=quiet'),
  form('POST', '/v2/keys/queue', 'value=j1'), form('POST', '/v2/keys/queue', 'value=j2'),
  get('/v2/keys/queue?recursive=true&sorted=true'),
  form('PUT', '/v2/keys/c1?prevExist=false', 'value=one'),
  form('PUT', '/v2/keys/c1?prevExist=false', 'value=again'),
  form('PUT', '/v2/keys/c1?prevExist=true', 'value=two'),
  form('PUT', '/v2/keys/nokey?prevExist=true', 'value=x'),
  // compare-and-swap, compare-and-delete
  form('PUT', '/v2/keys/c1?prevValue=nope', 'value=x'),
  form('PUT', '/v2/keys/c1?prevIndex=3&prevValue=nope', 'value=x'),
  form('PUT', '/v2/keys/c1?prevValue=two', 'value=three'),
  form('PUT', '/v2/keys/c1?prevIndex=11', 'value=four'),
  form('PUT', '/v2/keys/c1?prevIndex=18446744073709551615', 'value=x'),
  req('DELETE', '/v2/keys/c1?prevValue=nope'), req('DELETE', '/v2/keys/c1?prevIndex=1'), req('DELETE', '/v2/keys/c1?prevIndex=9007199254740993'),
  req('DELETE', '/v2/keys/c1?prevValue=four'),
  // directories
  form('PUT', '/v2/keys/d1', 'dir=true'), form('PUT', '/v2/keys/d1/a/b', 'value=x'), form('PUT', '/v2/keys/d1/_hidden', 'value=h'),
  get('/v2/keys/d1'), get('/v2/keys/d1?recursive=true'), get('/v2/keys/d1/_hidden'),
  form('PUT', '/v2/keys/d1', 'value=x'), form('PUT', '/v2/keys/d1/a/b/c', 'value=x'), get('/v2/keys/d1/a/b/c'),
  req('DELETE', '/v2/keys/d1'), req('DELETE', '/v2/keys/d1?dir=true'), req('DELETE', '/v2/keys/d1?recursive=true'),
  form('PUT', '/v2/keys/ed', 'dir=true'), req('DELETE', '/v2/keys/ed?dir=true'),
  // root is read only
  form('PUT', '/v2/keys/', 'value=x'), req('DELETE', '/v2/keys/?recursive=true'), req('DELETE', '/v2/keys/?prevValue=x'),
  form('PUT', '/v2/keys/?prevExist=true', 'value=x'), form('PUT', '/v2/keys/?prevValue=x', 'value=y'), form('PUT', '/v2/keys/queue?prevExist=true', 'value=x'),
  get('/v2/stats/store'),
  // TTL and refresh (from here on etcd proposes a SYNC entry every 500 ms while TTL keys exist:
  // X-Raft-Index depends on timing and is masked)
  { maskRaftIndex: true },
  form('PUT', '/v2/keys/t1', 'value=v&ttl=100'), get('/v2/keys/t1'),
  form('PUT', '/v2/keys/t1?prevExist=true', 'ttl=200&refresh=true'),
  form('PUT', '/v2/keys/t1', 'value=z&ttl=200&refresh=true'), form('PUT', '/v2/keys/t1', 'refresh=true'),
  form('PUT', '/v2/keys/t1?prevExist=true', 'value=v2&ttl='),
  form('PUT', '/v2/keys/t3', 'value=v&ttl=abc'), form('PUT', '/v2/keys/t3', 'value=v&ttl=-1'),
  form('PUT', '/v2/keys/t3', 'value=v&ttl=99999999999999999999'),
  // Go's int64 nanoseconds wrap: this expiration lands in 1688, so the set is permanent
  form('PUT', '/v2/keys/t4', 'value=v&ttl=99999999999'), get('/v2/keys/t4'),
  // expire: a stream watch sees the set, then the expire proposed by the leader's SYNC
  { parallel: get('/v2/keys/exp?wait=true&stream=true', '-m', '4'), then: [form('PUT', '/v2/keys/exp', 'value=e&ttl=1')] },
  // 200-series: bad form input, nothing written
  form('PUT', '/v2/keys/bad?prevIndex=abc', 'value=1'), form('PUT', '/v2/keys/bad?prevIndex=', 'value=1'),
  get('/v2/keys/bad?waitIndex=abc&wait=true'), get('/v2/keys/bad?recursive=maybe'), get('/v2/keys/bad?sorted=2'),
  form('PUT', '/v2/keys/bad?prevExist=maybe', 'value=1'), form('PUT', '/v2/keys/bad?refresh=maybe', 'value=1'),
  form('PUT', '/v2/keys/bad?wait=true', 'value=1'), form('PUT', '/v2/keys/bad?prevValue=', 'value=1'),
  form('PUT', '/v2/keys/bad?dir=yes', 'value=1'), form('PUT', '/v2/keys/bad?noValueOnSuccess=x', 'value=1'),
  get('/v2/keys/bad?%zz'), form('PUT', '/v2/keys/bad', 'value=%zz'), get('/v2/keys/bad?a=1;b=2'),
  req('PUT', '/v2/keys/bad', '-H', 'Content-Type: application/x-www-form-urlencoded; =', '-d', 'value=1'),
  // a lone token is a media type for Go (not a form, no 210): the root's 107
  req('PUT', '/v2/keys/', '-H', 'Content-Type: json', '-d', 'value=1'),
  req('PATCH', '/v2/keys/bad'), req('OPTIONS', '/v2/keys/bad'), req('OPTIONS', '/v2/keys/a/../bad', '--path-as-is', '-H', 'Content-Type: ; =', '-d', 'x'),
  req('GET', '/v2/keys/a/../bad', '--path-as-is'), req('HEAD', '/v2/keys/a/../bad', '--path-as-is', '-I'), req('PUT', '/v2/keys/a/./bad', '--path-as-is', '-d', 'value=1'),
  req('PUT', '/v2/keys/a//bad', '-d', 'value=1'), get('/v2/keys/bad'),
  // escaped paths: decoded before the key is taken ("+" stays); a bad escape in the path is Go's bare
  // "400 Bad Request" + Connection: close, written by net/http (no Date, no CORS headers, not chunked)
  req('PUT', '/v2/keys/%zz', '-d', 'value=1'), get('/v2/members/%zz'),
  form('PUT', '/v2/keys/a%20b%2Fc', 'value=1'), form('PUT', '/v2/keys/%C3%A9t%C3%A9', 'value=1'), get('/v2/keys/a+b'),
  // values: Go escaping, sizes (chunked above 2 KiB; v2 is not limited by --max-request-bytes)
  req('PUT', '/v2/keys/esc', '--data-urlencode', 'value=<a&b> "q" \\ é\ttab'),
  req('PUT', '/v2/keys/big', '--data-urlencode', 'value@@DIR/big.txt'),
  req('PUT', '/v2/keys/huge', '--data-urlencode', 'value@@DIR/huge.txt', '-o', '/dev/null', '-w', '%{http_code}'),
  req('PUT', '/v2/keys/too-large', '--data-binary', '@@DIR/too-large.txt'), get('/v2/keys/too-large'),
  // watches answered from history, and a long poll that ends
  get('/v2/keys/foo?wait=true&waitIndex=4'), get('/v2/keys/queue?wait=true&waitIndex=7&recursive=true'),
  get('/v2/keys/foo?wait=true&waitIndex=1'),
  { parallel: get('/v2/keys/w1?wait=true', '-m', '3'), then: [form('PUT', '/v2/keys/w1', 'value=woke')] },
  { parallel: get('/v2/keys/ws?wait=true&stream=true', '-m', '2'), then: [form('PUT', '/v2/keys/ws', 'value=1'), form('PUT', '/v2/keys/ws', 'value=2')] },
  // members, machines, stats
  get('/v2/members'), get('/v2/members/leader'), get('/v2/members/abc'), get('/v2/machines'), get('/v2/stats/leader'),
  get('/v2/stats/store'), get('/v2/stats'), req('POST', '/v2/stats/store'), req('POST', '/v2/machines'), req('PATCH', '/v2/members'), req('HEAD', '/v2/members', '-I'), req('HEAD', '/v2/stats/self', '-I'),
  req('HEAD', '/health', '-I'), req('HEAD', '/version', '-I'), req('POST', '/health', '-H', 'Content-Type: application/json', '-d', '{'),
  req('OPTIONS', '/v2/members', '-H', 'Content-Type: application/json', '-d', '{'),
  req('POST', '/v2/members', '-d', '{"peerURLs":["http://127.0.0.1:1"]}'),
  req('POST', '/v2/members', '-H', 'Content-Type: application/json', '-d', '{"peerURLs":["bad"]}'),
  req('POST', '/v2/members', '-H', 'Content-Type: application/json', '-d', '{'),
  req('POST', '/v2/members', '-H', 'Content-Type: application/json', '-d', '{}'),
  req('POST', '/v2/members', '-H', 'Content-Type: application/json', '-d', '{"peerURLs":["http://127.0.0.1:1/x"]}'),
  req('DELETE', '/v2/members/zz'), req('DELETE', '/v2/members'),
  req('PUT', '/v2/members/1234', '-H', 'Content-Type: application/json', '-d', '{"peerURLs":[]}'),
  req('PUT', '/v2/members/1234', '-H', 'Content-Type: application/json; charset=utf-8', '-d', '{"peerURLs":"x"}'),
  req('PUT', '/v2/members/1234', '-H', 'Content-Type: application/json', '-d', '{"peerURLs":["unix://x"]} {'),
  req('PUT', '/v2/members/1234', '-H', 'Content-Type: application/json', '-d', '{"PeerURLs":["unix://x"]}'),
  get('/v2/stats/store'),
  // etcdctl v2
  ctl('set', '/e/a', '1'), ctl('get', '/e/a'), ctl('mk', '/e/a', '2'), ctl('mk', '/e/b', '2'), ctl('update', '/e/b', '3'),
  ctl('update', '/e/nx', '3'), ctl('mkdir', '/e/dir'), ctl('mkdir', '/e/dir'), ctl('setdir', '/e/dir2'),
  ctl('updatedir', '--ttl', '100', '/e/dir2'), ctl('set', '/e/dir/x', 'y'), ctl('ls', '--sort', '/e'), ctl('ls', '-r', '--sort', '-p', '/e'),
  ctl('ls', '/nope'), ctl('rmdir', '/e/dir'), ctl('rm', '/e/dir'), ctl('rm', '-r', '/e/dir'), ctl('rmdir', '/e/dir2'),
  ctl('rm', '/e/a'), ctl('rm', '/e/a'), ctl('get', '/e/a'), ctl('set', '--swap-with-value', '9', '/e/c', '5'),
  ctl('-o', 'json', 'get', '/e/b'), ctl('-o', 'extended', 'get', '/e/b'),
  ctl('watch', '--after-index', '4', '/foo'), ctl('watch', '-r', '--after-index', '6', '/queue'),
  // (etcdctl 3.4 reads `<key> -- <command>` only when a flag was parsed; without one it swaps them)
  { parallel: { ctl: ['exec-watch', '-r', '/e/b', '--', 'sh', '-c', 'echo "$ETCD_WATCH_ACTION $ETCD_WATCH_KEY $ETCD_WATCH_VALUE $ETCD_WATCH_MODIFIED_INDEX"'], killAfterMs: 2500 },
    then: [ctl('set', '/e/b', 'ex')] },
  ctl('member', 'list'), ctl('member', 'add', 'x', 'bad-url'), ctl('member', 'remove', 'zz'), ctl('cluster-health'),
  // a set or create through a file counts one more setsFail (etcd's internalCreate)
  ctl('mk', '/e/b/x', '1'), ctl('set', '/e/b/x', '1'),
  get('/v2/keys/e?recursive=true&sorted=true'), get('/v2/stats/store'),
  // last (etcd proposes a ConfChange, a raft entry): a change of an unknown member is refused when
  // validated, which reads the member lists in the v2 store (one get found, one missing)
  req('DELETE', '/v2/members/1234'),
  req('PUT', '/v2/members/1234', '-H', 'Content-Type: application/json', '-d', '{"peerURLs":["http://127.0.0.1:1"]}'),
  get('/v2/stats/store'),
];
