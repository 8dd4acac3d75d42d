export { listFaults, startFault, stopFault, type DrillOptions } from './drill.js';
export { HISTOGRAM_RANGE, LatencyHistogram, type LatencyPercentiles } from './histogram.js';
export { parseMix, pickScenario, planRequest, type Mix, type Scenario } from './mix.js';
export { PROFILES, rateFraction, type ProfileName } from './profiles.js';
export { ProgressReporter, progressLine, type ProgressStream } from './progress.js';
export { checkTarget, LIMITS, runLoad, type Progress, type RunOptions } from './runner.js';
export { percentile, RunStats, type IntervalStats } from './stats.js';
export { seededRandom, Zipf } from './zipf.js';
