export { programs, type BinaryDirs, type Probe, type Program } from './programs.js';
export { control, down, ensureBinaries, prepare, preparePrometheus, status, up } from './stack.js';
export { portVariables, REPO, stackSettings, versions, type StackSettings } from './settings.js';
export { asUser, isRoot, postgresBin, run, systemUserIds, tcpReachable } from './system.js';
