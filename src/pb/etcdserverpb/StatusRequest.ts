// Original file: proto/rpc.proto


export interface StatusRequest {
}

export interface StatusRequest__Output {
}
