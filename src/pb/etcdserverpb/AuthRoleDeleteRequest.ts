// Original file: proto/rpc.proto


export interface AuthRoleDeleteRequest {
  'role'?: (string);
}

export interface AuthRoleDeleteRequest__Output {
  'role': (string);
}
