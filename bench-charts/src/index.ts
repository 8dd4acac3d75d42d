export { CHART_SOURCES, CHARTS_DIR, RESULTS_DIR, renderCharts, type ChartSource } from './charts.js';
export { renderSvg } from './render.js';
export { ResultsFileError, readResults } from './results.js';
