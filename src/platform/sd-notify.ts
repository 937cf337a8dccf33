// systemd readiness notification (Type=notify): send "READY=1" to the unix datagram socket named by
// $NOTIFY_SOCKET once the member serves clients, as etcd does.
//
// Node has no AF_UNIX SOCK_DGRAM sockets (node:dgram is UDP only), and the npm packages that add them
// (unix-dgram, sd-notify) are native addons. Without adding one, the simplest correct sender is
// systemd's own `systemd-notify` tool, which is installed wherever systemd is:
//
//   systemd-notify --pid=<our pid> READY=1
//
// --pid adds MAINPID=<our pid>; run as root it also sends with our credentials. Run as another user
// the message carries systemd-notify's own pid, which systemd accepts only with NotifyAccess=all in
// the unit (systemd/etcd.service sets it); systemd-notify (systemd >= 246) then waits on a
// BARRIER=1 round trip before exiting, so systemd still knows which unit the message came from.
// Returns false, never throws, when there is no
// NOTIFY_SOCKET (not under systemd) or the tool is missing or fails: readiness is best effort,
// exactly like etcd's "failed to notify systemd for readiness" warning.
import { execFile } from 'node:child_process';

/** A notification that takes longer than this is abandoned (the unit's start timeout still applies). */
export const SD_NOTIFY_TIMEOUT_MS = 5_000;

export interface SdNotifyOptions {
  env?: NodeJS.ProcessEnv;
  /** The notify tool; 'systemd-notify' on PATH by default. */
  command?: string;
  /** Called with the reason when the notification could not be sent. */
  onError?: (reason: string) => void;
}

/**
 * Send `state` (newline-separated assignments such as "READY=1" or "STOPPING=1") to systemd.
 * Resolves true when sent, false when not under systemd or when sending failed.
 */
export function sdNotify(state: string, opts: SdNotifyOptions = {}): Promise<boolean> {
  const env = opts.env ?? process.env;
  const socket = env['NOTIFY_SOCKET'];
  if (socket === undefined || socket === '') return Promise.resolve(false);
  const assignments = state.split('\n').map((s) => s.trim()).filter((s) => s !== '');
  const args = [`--pid=${process.pid}`, ...assignments];
  return new Promise((resolve) => {
    execFile(opts.command ?? 'systemd-notify', args, { env, timeout: SD_NOTIFY_TIMEOUT_MS }, (err, _stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        opts.onError?.(code === 'ENOENT' ? 'systemd-notify not found on PATH' : (stderr.trim() || err.message));
        resolve(false);
        return;
      }
      resolve(true);
    });
  });
}
