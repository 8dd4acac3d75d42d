/** The dashboards as code and the reading of their queries, for the stack tests that run them live. */
export { dashboardBuilders, renderDashboards, DASHBOARDS_DIR } from './generate.js';
export { macroValues, panelQueries, parseVariableQuery, readDashboard, substitute, type PanelQuery, type VariableView } from './queries.js';
