/*
 * /v2/keys form fields → a V2KeysRequest, checked in etcd 3.4's order; every bad field is a V2Error
 * with index 0 (HTTP 400): prevIndex, waitIndex (203); recursive, sorted, wait, dir, quorum, stream
 * (209, quoted name); wait on a non-GET (209); empty prevValue (201); noValueOnSuccess (209);
 * ttl (202); prevExist, refresh (209, unquoted name); a value (211) or no ttl (212) on a refresh.
 * Booleans are Go's strconv.ParseBool (1 t T TRUE true True 0 f F FALSE false False), numbers Go's
 * strconv.ParseUint base 10 (digits only, at most 2^64-1; "" is an error).
 */
import { V2Error, V2ErrorCode } from '../../v2store/index.js';
import type { V2KeysRequest } from '../../server/facade.js';
import { formValue, type Form } from './form.js';

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);
const UINT64_MAX = 18446744073709551615n;

/** A parsed /v2/keys request: what the facade gets plus what only the HTTP layer uses. */
export interface ParsedKeysRequest {
  readonly req: V2KeysRequest;
  readonly wait: boolean;
  readonly waitIndex: number;
  readonly stream: boolean;
  readonly noValueOnSuccess: boolean;
}

function bad(code: number, cause: string): V2Error {
  return new V2Error(code, cause, 0);
}

/** Go's ParseBool of the first value; undefined when the field is absent; throws on a bad value. */
function getBool(form: Form, name: string, err: () => V2Error): boolean | undefined {
  const v = form.get(name)?.[0];
  if (v === undefined) return undefined;
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw err();
}

/**
 * Go's ParseUint(v, 10, 64) of the first value; 0 when absent. Above 2^53 - 1 a bigint, so that a
 * uint64 such as 18446744073709551615 reaches etcd's "[<prevIndex> != <index>]" cause unchanged.
 */
function getUint(form: Form, name: string, err: () => V2Error): number | bigint {
  const v = form.get(name)?.[0];
  if (v === undefined) return 0;
  if (!/^[0-9]+$/.test(v)) throw err();
  const n = BigInt(v);
  if (n > UINT64_MAX) throw err();
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? n : Number(n);
}

const quotedBool = (form: Form, name: string): boolean =>
  getBool(form, name, () => bad(V2ErrorCode.InvalidField, `invalid value for "${name}"`)) ?? false;

/** Parses the fields of a /v2/keys request (method as sent: HEAD is read like GET, without watches). */
export function parseKeysRequest(method: string, key: string, form: Form): ParsedKeysRequest {
  const prevIndex = getUint(form, 'prevIndex', () => bad(V2ErrorCode.IndexNaN, 'invalid value for "prevIndex"'));
  // a waitIndex past 2^53 waits like any future index
  const waitIndexGiven = getUint(form, 'waitIndex', () => bad(V2ErrorCode.IndexNaN, 'invalid value for "waitIndex"'));
  const waitIndex = Number(waitIndexGiven);
  const recursive = quotedBool(form, 'recursive');
  const sorted = quotedBool(form, 'sorted');
  const wait = quotedBool(form, 'wait');
  const dir = quotedBool(form, 'dir');
  const quorum = quotedBool(form, 'quorum');
  const stream = quotedBool(form, 'stream');
  if (wait && method !== 'GET') throw bad(V2ErrorCode.InvalidField, '"wait" can only be used with GET requests');
  const prevValue = form.get('prevValue')?.[0];
  if (prevValue === '') throw bad(V2ErrorCode.PrevValueRequired, '"prevValue" cannot be empty');
  const noValueOnSuccess = quotedBool(form, 'noValueOnSuccess');
  let ttlSeconds: number | bigint | undefined;
  if (formValue(form, 'ttl') !== '') {
    ttlSeconds = getUint(form, 'ttl', () => bad(V2ErrorCode.TTLNaN, 'invalid value for "ttl"'));
  }
  const prevExist = getBool(form, 'prevExist', () => bad(V2ErrorCode.InvalidField, 'invalid value for prevExist'));
  const refreshGiven = getBool(form, 'refresh', () => bad(V2ErrorCode.InvalidField, 'invalid value for refresh'));
  const refresh = refreshGiven ?? false;
  const value = form.get('value')?.[0];
  if (refresh) {
    if (value !== undefined && value !== '') throw bad(V2ErrorCode.RefreshValue, 'A value was provided on a refresh');
    if (ttlSeconds === undefined) throw bad(V2ErrorCode.RefreshTTLRequired, 'No TTL value set');
  }
  const req: V2KeysRequest = {
    method: method === 'HEAD' ? 'GET' : (method as V2KeysRequest['method']),
    key, value: value ?? '', dir, ttlSeconds, refresh, prevValue, prevIndex, prevExist, recursive, sorted,
    quorum: method === 'GET' && quorum,
    given: { refresh: refreshGiven !== undefined, quorum, waitIndex: waitIndexGiven, stream },
  };
  return { req, wait: wait && !req.quorum, waitIndex, stream, noValueOnSuccess };
}
