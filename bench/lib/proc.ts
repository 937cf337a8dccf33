// The server's resource use, read from Linux /proc for a pid we were given: CPU seconds (user +
// system, all threads) and resident memory (VmRSS now, VmHWM the peak since start or since the last
// resetPeakRss). Every reader answers undefined when the process or /proc is not there.
import { readFileSync, writeFileSync } from 'node:fs';

const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

/** CPU seconds of /proc/<pid>/stat's fields `a` and `b` (1-based, as proc(5) numbers them). */
function statSeconds(pid: number | 'self', a: number, b: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
    return (Number(fields[a - 3]) + Number(fields[b - 3])) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}

/** utime + stime (fields 14, 15): the process's CPU, all threads. */
export const cpuSeconds = (pid: number): number | undefined => statSeconds(pid, 14, 15);

/** cutime + cstime (fields 16, 17) of this process: the CPU of its children that have exited. */
export const childrenCpuSeconds = (): number => statSeconds('self', 16, 17) ?? 0;

function statusKb(pid: number, field: string): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export const rssMb = (pid: number): number | undefined => mb(statusKb(pid, 'VmRSS'));
export const peakRssMb = (pid: number): number | undefined => mb(statusKb(pid, 'VmHWM'));
const mb = (kb: number | undefined): number | undefined => (kb === undefined ? undefined : kb / 1024);

/** Reset VmHWM to the current RSS (clear_refs 5; needs to own the process). False if refused. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The server's CPU and peak RSS at the start of a run (peak reset when /proc lets us), per pid. */
export interface UsageStart { pids: number[]; cpu: (number | undefined)[]; peakReset: boolean }
/** A cluster's usage is its members' summed; cpuSByPid keeps each member's CPU seconds. */
export interface ServerUsage { cpuS?: number; cpuPct?: number; rssMb?: number; peakRssMb?: number; cpuSByPid?: number[] }

/** Start measuring one server, or several (a cluster's members) whose figures are summed. */
export function startUsage(pid: number | number[] | undefined): UsageStart | undefined {
  const pids = pid === undefined ? [] : Array.isArray(pid) ? pid : [pid];
  if (pids.length === 0) return undefined;
  const peakReset = pids.map(resetPeakRss).every(Boolean);
  return { pids, cpu: pids.map(cpuSeconds), peakReset };
}

/** Sum of xs, or undefined when any is unknown. */
const total = (xs: (number | undefined)[]): number | undefined =>
  xs.some((x) => x === undefined) ? undefined : xs.reduce<number>((a, x) => a + x!, 0);

/** What the servers used since `start`: their CPU, RSS now and peak RSS (when it could be reset). */
export function endUsage(start: UsageStart | undefined): Omit<ServerUsage, 'cpuPct'> | undefined {
  if (!start) return undefined;
  const byPid = start.pids.map((pid, i) => {
    const [c0, c1] = [start.cpu[i], cpuSeconds(pid)];
    return c0 !== undefined && c1 !== undefined ? c1 - c0 : undefined;
  });
  const cpuS = total(byPid);
  return {
    cpuS,
    rssMb: total(start.pids.map(rssMb)),
    peakRssMb: start.peakReset ? total(start.pids.map(peakRssMb)) : undefined,
    ...(start.pids.length > 1 && cpuS !== undefined ? { cpuSByPid: byPid as number[] } : {}),
  };
}

/** The usage with its CPU as % of one core over `wallS` seconds. */
export function withCpuPct(u: Omit<ServerUsage, 'cpuPct'> | undefined, wallS: number): ServerUsage | undefined {
  return u && { ...u, cpuPct: u.cpuS === undefined ? undefined : (100 * u.cpuS) / wallS };
}
