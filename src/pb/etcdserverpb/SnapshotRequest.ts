// Original file: proto/rpc.proto


export interface SnapshotRequest {
}

export interface SnapshotRequest__Output {
}
