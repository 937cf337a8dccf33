// Original file: proto/rpc.proto


export interface MemberListRequest {
}

export interface MemberListRequest__Output {
}
