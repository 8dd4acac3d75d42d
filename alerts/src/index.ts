export { ALERTMANAGER_FILE, REPO, renderAlertmanagerConfig, renderRuleFile, ruleFiles } from './generate.js';
export { alertmanagerConfig } from './alertmanager.js';
export { DASHBOARDS, isAlert, type AlertingRule, type RecordingRule, type RuleFile, type RuleGroup } from './rules.js';
export { BURN_RATES, sloRecordingRules, WINDOWS } from './slo.js';
export { SLOS } from './slos.js';
export { THRESHOLDS } from './thresholds.js';
