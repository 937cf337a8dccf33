// Original file: proto/rpc.proto


export interface AuthDisableRequest {
}

export interface AuthDisableRequest__Output {
}
