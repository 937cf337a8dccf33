// The server's resource use, read from Linux /proc for a pid we were given: CPU seconds (user +
// system, all threads) and resident memory (VmRSS now, VmHWM the peak since start or since the last
// resetPeakRss). Every reader answers undefined when the process or /proc is not there.
import { readFileSync, writeFileSync } from 'node:fs';

const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}

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
