// The timing of each step of a start, logged at debug level ("start step"): the step's own
// milliseconds and the milliseconds since the process started (performance.now()'s origin), so
// `--log-level debug` shows where a slow restart spends its time.
import type { Logger } from './logger.js';

export interface StartSteps {
  /** Logs the step that just finished: its time since the previous mark, and since process start. */
  mark(step: string, fields?: Record<string, unknown>): void;
}

export function startSteps(logger: Logger): StartSteps {
  let last = 0; // the first step ("modules imported") counts from the process start
  return {
    mark(step, fields) {
      const now = performance.now();
      if (logger.isLevelEnabled('debug')) {
        logger.debug({ step, ms: Math.round(now - last), sinceStartMs: Math.round(now), ...fields }, 'start step');
      }
      last = now;
    },
  };
}

/** A StartSteps that logs nothing (tests, tools). */
export const noStartSteps: StartSteps = { mark: () => undefined };
