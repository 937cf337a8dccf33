// Original file: proto/rpc.proto


export interface AuthEnableRequest {
}

export interface AuthEnableRequest__Output {
}
