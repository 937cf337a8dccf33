import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MessageType, type Message } from '../../../src/raft/types.js';
import { HeartbeatWatch } from '../../../src/server/heartbeat-watch.js';

const msg = (type: MessageType, to: bigint): Message => ({ type, to } as Message);

describe('HeartbeatWatch (etcd_server_heartbeat_send_failures_total)', () => {
  it('counts a heartbeat sent to a peer more than two intervals after the previous one', () => {
    let now = 0;
    const w = new HeartbeatWatch(100, pino({ level: 'silent' }), () => now);
    w.observe([msg(MessageType.MsgHeartbeat, 2n), msg(MessageType.MsgHeartbeat, 3n)]);
    now = 200;
    w.observe([msg(MessageType.MsgHeartbeat, 2n), msg(MessageType.MsgApp, 3n)]);
    expect(w.failures).toBe(0);
    now = 401;
    w.observe([msg(MessageType.MsgHeartbeat, 2n), msg(MessageType.MsgHeartbeat, 3n)]); // 2: 201 ms late, 3: 401 ms
    expect(w.failures).toBe(2);
    now = 1000;
    w.reset(); // became leader again: intervals start over
    w.observe([msg(MessageType.MsgHeartbeat, 2n)]);
    expect(w.failures).toBe(2);
  });
});
