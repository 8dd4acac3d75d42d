export { CHART_DIR, chartFiles, datasourcesTemplate, valuesJsonSchema, valuesYaml } from './chart.js';
export { containerEnv, envTemplates, kubernetesWiring } from './env.js';
export { CHART_SERVICES, defaultValues, requiredSecretKeys, valuesSchema, type Values } from './values.js';
