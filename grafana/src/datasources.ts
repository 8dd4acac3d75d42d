import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

/** The datasource UIDs provisioned in provisioning/datasources/datasources.yaml; dashboards refer to these only. */
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: 'prometheus' };
export const LOKI: DataSourceRef = { type: 'loki', uid: 'loki' };
export const TEMPO: DataSourceRef = { type: 'tempo', uid: 'tempo' };
