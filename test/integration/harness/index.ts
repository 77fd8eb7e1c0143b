// Shared integration-test helpers; see README.md in this folder.
export { freePort } from './free-port.js';
export { makeTestPki, type PkiOptions, type TestPki } from './pki.js';
export {
  type Broker,
  disposeAllBrokers,
  registerBrokerCleanup,
  startMosquitto,
  type StartMosquittoOptions,
} from './mosquitto.js';
export { collect, type CollectedMessage, type CollectOptions, type Collector, type WaitCondition } from './collect.js';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
export { canMakeLoopDisks, filesAfterCut, journalReadings, type LoopDisk, makeLoopDisk } from './loop-disk.js';
