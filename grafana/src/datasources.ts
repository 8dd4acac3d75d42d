import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

/** The datasource UIDs provisioned in provisioning/datasources/datasources.yaml; dashboards refer to these only. */
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: 'prometheus' };
