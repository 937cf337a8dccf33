// Original file: proto/rpc.proto

import type { ResponseHeader as _etcdserverpb_ResponseHeader, ResponseHeader__Output as _etcdserverpb_ResponseHeader__Output } from '../etcdserverpb/ResponseHeader.js';

export interface AuthRoleListResponse {
  'header'?: (_etcdserverpb_ResponseHeader | null);
  'roles'?: (string)[];
}

export interface AuthRoleListResponse__Output {
  'header': (_etcdserverpb_ResponseHeader__Output | null);
  'roles': (string)[];
}
