// The timing of each step of a start, logged at debug level ("start step"): the step's own
// milliseconds, the CPU milliseconds the process spent meanwhile (all threads: GC and LevelDB's too),
// and the milliseconds since the process started (performance.now()'s origin), so `--log-level
// debug` shows where a slow restart spends its time, and whether it waited or computed. `faults`:
// the minor page faults meanwhile (memory touched for the first time: ~12 us of system CPU each on
// a virtual machine such as the benchmarks' Firecracker VM, so ~3 ms a MB).
import type { Logger } from './logger.js';

export interface StartSteps {
  /** Logs the step that just finished: its time since the previous mark, and since process start. */
  mark(step: string, fields?: Record<string, unknown>): void;
}

export function startSteps(logger: Logger): StartSteps {
  let last = 0; // the first step ("modules imported") counts from the process start
  let lastCpu = { user: 0, system: 0 };
  let lastFaults = 0;
  return {
    mark(step, fields) {
      const now = performance.now();
      const cpu = process.cpuUsage();
      const faults = process.resourceUsage().minorPageFault;
      if (logger.isLevelEnabled('debug')) {
        const cpuMs = Math.round((cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000);
        logger.debug({ step, ms: Math.round(now - last), cpuMs, faults: faults - lastFaults, sinceStartMs: Math.round(now), ...fields }, 'start step');
      }
      last = now;
      lastCpu = cpu;
      lastFaults = faults;
    },
  };
}

/** A StartSteps that logs nothing (tests, tools). */
export const noStartSteps: StartSteps = { mark: () => undefined };
