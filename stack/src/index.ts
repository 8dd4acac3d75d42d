export { composeWiring, dbPasswordVariable, generatedFiles, postgresInit, REPO, serviceTargets } from './generate.js';
export {
  databases,
  INFRA,
  infraOf,
  portVariable,
  rewriteServiceUrls,
  service,
  serviceDependencies,
  serviceEnvironment,
  services,
  startOrder,
  urlVariable,
  validateModel,
  type Infra,
  type ServiceSpec,
  type Wiring,
} from './model.js';
