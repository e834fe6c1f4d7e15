// A fake Proxmox Backup Server API for tests and the demo: it answers as a real host does (envelopes,
// plain-text errors under a JSON content type, privilege-filtered lists), checked against the PBS pin.
export { startFakePbs, pbsToken, missingPbsPermission, PBS_AUDIT, DATASTORE_AUDIT } from './server.js';
export type { FakePbs, FakePbsOptions, PbsFault } from './server.js';
export { makePbs, upid } from './model.js';
export type { PbsModel, DatastoreModel, GroupModel, SnapshotModel, JobModel, TaskModel, RemoteModel } from './model.js';
