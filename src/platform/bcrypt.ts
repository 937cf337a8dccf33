// @node-rs/bcrypt (a native addon), loaded at its first use: a member without auth users never needs it.
import { createRequire } from 'node:module';

export type Bcrypt = typeof import('@node-rs/bcrypt');
let bcryptModule: Bcrypt | undefined;

export function bcrypt(): Bcrypt {
  return (bcryptModule ??= createRequire(import.meta.url)('@node-rs/bcrypt') as Bcrypt);
}
