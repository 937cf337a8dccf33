// Original file: proto/rpc.proto


export interface DefragmentRequest {
}

export interface DefragmentRequest__Output {
}
