// sdNotify against a real unix datagram socket (bound by a small python3 receiver, since Node cannot
// bind one): the READY=1 datagram arrives with our MAINPID; without NOTIFY_SOCKET nothing is sent.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sdNotify } from '../../../src/platform/sd-notify.js';

// Receives datagrams until systemd-notify's BARRIER=1 (whose passed fd it closes, as systemd does).
const RECEIVER = `
import socket, sys, os, array
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
s.settimeout(20)
while True:
    msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(64))
    for level, typ, data in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds = array.array('i')
            fds.frombytes(data[:len(data) - (len(data) % 4)])
            for fd in fds:
                os.close(fd)
    if msg.strip() == b'BARRIER=1':
        break
    print(msg.decode(), flush=True)
`;

let dir = '';
let receiver: ChildProcess | undefined;
afterEach(() => {
  if (receiver && receiver.exitCode === null) receiver.kill();
  receiver = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

function startReceiver(sock: string): Promise<{ message: Promise<string> }> {
  const child = spawn('python3', ['-c', RECEIVER, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  receiver = child;
  let out = '';
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    const message = new Promise<string>((res) => child.once('exit', () => res(out.replace(/^bound\n/, ''))));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('bound\n')) resolve({ message });
    });
  });
}

describe('sdNotify', () => {
  it('sends READY=1 with our MAINPID to $NOTIFY_SOCKET', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sdnotify-'));
    const sock = path.join(dir, 'notify.sock');
    const { message } = await startReceiver(sock);
    const sent = await sdNotify('READY=1', { env: { ...process.env, NOTIFY_SOCKET: sock } });
    expect(sent).toBe(true);
    const lines = (await message).trim().split('\n');
    expect(lines).toContain('READY=1');
    expect(lines).toContain(`MAINPID=${process.pid}`);
  });

  it('returns false without NOTIFY_SOCKET', async () => {
    const env = { ...process.env };
    delete env['NOTIFY_SOCKET'];
    expect(await sdNotify('READY=1', { env })).toBe(false);
  });

  it('returns false and reports why when the notify tool is missing', async () => {
    const reasons: string[] = [];
    const sent = await sdNotify('READY=1', {
      env: { ...process.env, NOTIFY_SOCKET: '/nonexistent/notify.sock' },
      command: '/nonexistent/systemd-notify',
      onError: (r) => reasons.push(r),
    });
    expect(sent).toBe(false);
    expect(reasons).toEqual(['systemd-notify not found on PATH']);
  });
});
