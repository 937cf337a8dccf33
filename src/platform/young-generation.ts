/*
 * V8's young generation during a start. Module loading and the key index load allocate fast and keep
 * most of it, so V8 doubles the semi-spaces up to their 16 MB maximum (32 MB of new space, then
 * resident for good) although an idle member needs almost none of it. Held at its initial size until
 * the member serves (growth factor 1), the young generation grows afterwards only when client traffic
 * asks for it. An explicit node flag for the semi-spaces wins.
 */
import v8 from 'node:v8';

/** V8's own --semi-space-growth-factor (Node 20 to 24). */
const V8_GROWTH_FACTOR = 2;
const OWN_FLAG = /^--(semi[-_]space[-_]growth[-_]factor|max[-_]semi[-_]space[-_]size|min[-_]semi[-_]space[-_]size)\b/;

let held = false;

/** Stops the young generation from growing; returns whether it did (not when node was given a semi-space flag). */
export function holdYoungGeneration(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => OWN_FLAG.test(a))) return false;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  held = true;
  return true;
}

/** Lets the young generation grow again as V8 grows it (after holdYoungGeneration). */
export function releaseYoungGeneration(): void {
  if (!held) return;
  v8.setFlagsFromString(`--semi-space-growth-factor=${V8_GROWTH_FACTOR}`);
  held = false;
}
