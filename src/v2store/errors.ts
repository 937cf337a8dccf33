/*
 * The v2 error table: etcd 3.4's codes, messages and HTTP statuses (observed against etcd 3.4.23).
 * A V2Error is a domain outcome (never thrown for a broken invariant). Its body is
 *   {"errorCode":100,"message":"Key not found","cause":"/foo","index":5}
 * in that field order; `cause` is left out when empty, `index` is always present.
 */
import { goJsonString } from './json.js';

export const V2ErrorCode = {
  KeyNotFound: 100,
  TestFailed: 101,
  NotFile: 102,
  NoMorePeer: 103,
  NotDir: 104,
  NodeExist: 105,
  KeyIsPreserved: 106,
  RootROnly: 107,
  DirNotEmpty: 108,
  ExistingPeerAddr: 109,
  Unauthorized: 110,
  ValueRequired: 200,
  PrevValueRequired: 201,
  TTLNaN: 202,
  IndexNaN: 203,
  ValueOrTTLRequired: 204,
  TimeoutNaN: 205,
  NameRequired: 206,
  IndexOrValueRequired: 207,
  IndexValueMutex: 208,
  InvalidField: 209,
  InvalidForm: 210,
  RefreshValue: 211,
  RefreshTTLRequired: 212,
  RaftInternal: 300,
  LeaderElect: 301,
  WatcherCleared: 400,
  EventIndexCleared: 401,
  StandbyInternal: 402,
  InvalidActiveSize: 403,
  InvalidRemoveDelay: 404,
  ClientInternal: 500,
} as const;
export type V2ErrorCodeValue = (typeof V2ErrorCode)[keyof typeof V2ErrorCode];

/** code → etcd's message text. */
export const V2ErrorMessages: Readonly<Record<number, string>> = {
  100: 'Key not found',
  101: 'Compare failed',
  102: 'Not a file',
  103: 'Reached the max number of peers in the cluster',
  104: 'Not a directory',
  105: 'Key already exists',
  106: 'The prefix of given key is a keyword in etcd',
  107: 'Root is read only',
  108: 'Directory not empty',
  109: 'Peer address has existed',
  110: 'The request requires user authentication',
  200: 'Value is Required in POST form',
  201: 'PrevValue is Required in POST form',
  202: 'The given TTL in POST form is not a number',
  203: 'The given index in POST form is not a number',
  204: 'Value or TTL is required in POST form',
  205: 'The given timeout in POST form is not a number',
  206: 'Name is required in POST form',
  207: 'Index or value is required',
  208: 'Index and value cannot both be specified',
  209: 'Invalid field',
  210: 'Invalid POST form',
  211: 'Value provided on refresh',
  212: 'A TTL must be provided on refresh',
  300: 'Raft Internal Error',
  301: 'During Leader Election',
  400: 'watcher is cleared due to etcd recovery',
  401: 'The event in requested index is outdated and cleared',
  402: 'Standby Internal Error',
  403: 'Invalid active size',
  404: 'Standby remove delay',
  500: 'Client Internal Error',
};

/** HTTP status etcd answers with for a code; everything not listed is 400 (401 included). */
export function v2ErrorHttpStatus(code: number): number {
  switch (code) {
    case 100: return 404;
    case 101: return 412;
    case 102: return 403;
    case 105: return 412;
    case 108: return 403;
    case 110: return 401;
    case 300: case 301: return 500;
    default: return 400;
  }
}

export interface V2ErrorBody { errorCode: number; message: string; cause?: string; index: number }

export class V2Error extends Error {
  readonly errorCode: number;
  override readonly cause: string;
  /** The store index when the error happened (0 for request-parse errors, as etcd). */
  readonly index: number;

  constructor(errorCode: number, cause = '', index = 0) {
    const message = V2ErrorMessages[errorCode];
    if (message === undefined) throw new Error(`v2store: unknown v2 error code ${errorCode}`);
    super(message);
    this.name = 'V2Error';
    this.errorCode = errorCode;
    this.cause = cause;
    this.index = index;
  }

  /** HTTP status etcd maps this code to. */
  httpStatus(): number {
    return v2ErrorHttpStatus(this.errorCode);
  }

  /** etcd's body as an object in etcd's field order (JSON.stringify keeps it). */
  toJSON(): V2ErrorBody {
    return this.cause === ''
      ? { errorCode: this.errorCode, message: this.message, index: this.index }
      : { errorCode: this.errorCode, message: this.message, cause: this.cause, index: this.index };
  }

  /** etcd's exact body bytes (Go's JSON escaping), without the trailing "\n" the HTTP layer adds. */
  serialize(): string {
    let s = `{"errorCode":${this.errorCode},"message":${goJsonString(this.message)}`;
    if (this.cause !== '') s += `,"cause":${goJsonString(this.cause)}`;
    return `${s},"index":${this.index}}`;
  }
}

export function isV2Error(e: unknown): e is V2Error {
  return e instanceof V2Error;
}
