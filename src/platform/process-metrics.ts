// The process families Go's Prometheus process collector prints on Linux (process_cpu_seconds_total,
// process_open_fds, process_max_fds, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_virtual_memory_max_bytes, process_start_time_seconds) and etcd's os_fd_used / os_fd_limit,
// read from /proc when /metrics is scraped, as Go's collector does. Where /proc is missing (not Linux)
// the families stay at 0.
import { readFileSync, readdirSync } from 'node:fs';
import type { EtcdMetrics } from '../pkg/metrics.js';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ, what Go's procfs assumes too
const PAGE_BYTES = 4096;
/** How Go prints an rlimit of "unlimited" (RLIM_INFINITY as a float64). */
const UNLIMITED = 18446744073709551615;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

/** The fields of /proc/self/stat after the command name, at the numbers proc(5) gives them (pid is 1). */
function statFields(): string[] | undefined {
  const text = read('/proc/self/stat');
  if (text === undefined) return undefined;
  return ['', '', '', ...text.slice(text.lastIndexOf(')') + 2).trim().split(' ')];
}

function limit(name: string): number {
  const line = read('/proc/self/limits')?.split('\n').find((l) => l.startsWith(name));
  const soft = line?.slice(name.length).trim().split(/\s+/)[0];
  if (soft === undefined) return 0;
  return soft === 'unlimited' ? UNLIMITED : Number(soft);
}

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length - 1; // less the directory read's own descriptor
  } catch {
    return 0;
  }
}

function bootTimeSeconds(): number {
  const line = read('/proc/stat')?.split('\n').find((l) => l.startsWith('btime '));
  return line === undefined ? 0 : Number(line.slice(6));
}

export function sampleProcessMetrics(m: EtcdMetrics): void {
  const stat = (k: number): number => Number(statFields()?.[k] ?? 0);
  const boot = bootTimeSeconds();
  const started = boot + stat(22) / CLOCK_TICKS_PER_SECOND;
  m.sample('process_cpu_seconds_total', () => (stat(14) + stat(15)) / CLOCK_TICKS_PER_SECOND);
  m.sample('process_open_fds', openFds);
  m.sample('os_fd_used', openFds);
  m.sample('process_max_fds', () => limit('Max open files'));
  m.sample('os_fd_limit', () => limit('Max open files'));
  m.sample('process_resident_memory_bytes', () => stat(24) * PAGE_BYTES);
  m.sample('process_virtual_memory_bytes', () => stat(23));
  m.sample('process_virtual_memory_max_bytes', () => limit('Max address space'));
  m.sample('process_start_time_seconds', () => started);
}
