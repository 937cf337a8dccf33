/*
 * The fence around the private internals of dependencies (DESIGN.md, house style). Each dependency
 * whose private hooks we use has ONE module here that names them (grpc-hooks.ts, level-hooks.ts);
 * nothing else in src/ touches them. That module makes a Fence: the dependency's installed version
 * (read from its package.json) and the versions its hooks were tested with. A hook is tried only
 * when the version is a tested one and ETCD_TS_NO_PRIVATE_HOOKS is not set; each time the public
 * path is taken instead (switched off, untested version, or the private member is missing) the
 * hook's fallback count grows, and the first time for each reason one warning is logged:
 *
 *   {"level":"warn","dependency":"classic-level","hook":"_batch","reason":"untested version",
 *    "version":"3.1.0","tested":["3.0.0"],"msg":"not using a private hook of a dependency; using its public path"}
 *
 * /metrics shows the counts as etcd_ts_fenced_hook_fallbacks_total{dependency,hook} (one process,
 * one count: several members in one process share them). Cost of an allowed hook: one boolean read.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Logger } from '../pkg/logger.js';

/** Set to 1 (or true/yes) to keep every private hook off: public paths only. */
export const NO_PRIVATE_HOOKS_ENV = 'ETCD_TS_NO_PRIVATE_HOOKS';
export const HOOK_FALLBACK_MESSAGE = 'not using a private hook of a dependency; using its public path';

export type FallbackReason = 'switched off' | 'untested version' | 'missing';

interface Warning {
  readonly fields: Record<string, unknown>;
  readonly level: 'warn' | 'info';
}

/** Warnings logged before the member's logger was handed over wait here (a handful at most). */
const held: Warning[] = [];
let logger: Logger | undefined;
const hooks: Hook[] = [];

function report(w: Warning): void {
  if (logger === undefined) held.push(w);
  else logger[w.level](w.fields, HOOK_FALLBACK_MESSAGE);
}

/** The member's logger: warnings so far are logged now, later ones as they happen. */
export function reportHooksTo(l: Logger): void {
  logger = l.child({ room: 'platform', component: 'hook-fence' });
  for (const w of held.splice(0)) report(w);
}

/** Every hook's fallbacks so far, as /metrics series (dependency, hook → count). */
export function hookFallbackSeries(): Array<[Record<string, string>, number]> {
  const sums = new Map<string, [Record<string, string>, number]>();
  for (const h of hooks) {
    if (h.fallbacks === 0) continue;
    const key = `${h.fence.dependency}\n${h.name}`;
    const s = sums.get(key);
    if (s === undefined) sums.set(key, [{ dependency: h.fence.dependency, hook: h.name }, h.fallbacks]);
    else s[1] += h.fallbacks;
  }
  return [...sums.values()];
}

/** Whether the environment turns private hooks off. */
export function hooksSwitchedOff(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env[NO_PRIVATE_HOOKS_ENV] ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false' && v !== 'no';
}

/** The version in an installed package's package.json (undefined when it cannot be read). */
export function installedVersion(pkg: string): string | undefined {
  try {
    const file = createRequire(import.meta.url).resolve(`${pkg}/package.json`);
    const v = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

export class Fence {
  /** Why every hook of this dependency is off, or undefined when they may be tried. */
  readonly off: Exclude<FallbackReason, 'missing'> | undefined;

  constructor(
    readonly dependency: string,
    readonly tested: readonly string[],
    readonly version: string | undefined,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    if (hooksSwitchedOff(env)) this.off = 'switched off';
    else if (version === undefined || !tested.includes(version)) this.off = 'untested version';
  }

  /** A named hook of this dependency (a warning is logged now if the fence keeps it off). */
  hook(name: string): Hook {
    const h = new Hook(this, name);
    hooks.push(h);
    if (this.off !== undefined) h.warn(this.off);
    return h;
  }
}

export class Hook {
  /** Times the public path was taken instead of this hook. */
  fallbacks = 0;
  /** Whether the fence lets this hook be tried (the caller still checks the member is there). */
  readonly allowed: boolean;
  private readonly warned = new Set<FallbackReason>();

  constructor(
    readonly fence: Fence,
    readonly name: string,
  ) {
    this.allowed = fence.off === undefined;
  }

  /**
   * The private function `f` when the fence allows this hook and `f` is one; otherwise undefined,
   * and the fallback is counted (and warned of once per reason).
   */
  take<F extends (...args: never[]) => unknown>(f: unknown): F | undefined {
    if (this.allowed && typeof f === 'function') return f as F;
    this.fellBack(this.allowed ? 'missing' : this.fence.off!);
    return undefined;
  }

  /** The public path is taken this time (for a hook that is not a function to take). */
  fellBack(reason: FallbackReason): void {
    this.fallbacks++;
    if (!this.warned.has(reason)) this.warn(reason);
  }

  warn(reason: FallbackReason): void {
    this.warned.add(reason);
    const f = this.fence;
    report({
      level: reason === 'switched off' ? 'info' : 'warn',
      fields: { dependency: f.dependency, hook: this.name, reason, version: f.version ?? 'unknown', tested: f.tested },
    });
  }
}
