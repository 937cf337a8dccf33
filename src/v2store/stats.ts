/*
 * The /v2/stats/store counters, named and ordered as etcd 3.4 prints them:
 * {"getsSuccess":0,"getsFail":1,"setsSuccess":2,...,"expireCount":0,"watchers":0}
 * Every store call counts one success or one failure (a V2Error); expireCount counts expired nodes;
 * watchers is the number of registered watchers at the time of reading.
 */
export interface V2StoreStats {
  getsSuccess: number;
  getsFail: number;
  setsSuccess: number;
  setsFail: number;
  deleteSuccess: number;
  deleteFail: number;
  updateSuccess: number;
  updateFail: number;
  createSuccess: number;
  createFail: number;
  compareAndSwapSuccess: number;
  compareAndSwapFail: number;
  compareAndDeleteSuccess: number;
  compareAndDeleteFail: number;
  expireCount: number;
  watchers: number;
}

export type V2StatField = 'gets' | 'sets' | 'delete' | 'update' | 'create' | 'compareAndSwap' | 'compareAndDelete';

export function newStats(): V2StoreStats {
  return {
    getsSuccess: 0, getsFail: 0, setsSuccess: 0, setsFail: 0, deleteSuccess: 0, deleteFail: 0,
    updateSuccess: 0, updateFail: 0, createSuccess: 0, createFail: 0, compareAndSwapSuccess: 0,
    compareAndSwapFail: 0, compareAndDeleteSuccess: 0, compareAndDeleteFail: 0, expireCount: 0, watchers: 0,
  };
}
