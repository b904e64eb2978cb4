import type { DeploymentRow, VersionRow } from './repositories/deployment.repository';

/** A deployment as the API shows it. */
export interface DeploymentView {
  id: string;
  name: string;
  runtime: string;
  status: string;
  error: string | null;
  version: number;
  /** Where the app answers: the platform's proxy path. */
  endpoint: string;
  started_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface VersionView {
  version_number: number;
  files: Array<{ path: string; size: number }>;
  build_command: string | null;
  start_command: string;
  port: number;
  health_check_path: string;
  private: boolean;
  /** Variable names only; their values are stored encrypted and never shown. */
  env_vars: string[];
  current: boolean;
  created_at: string;
}

export const endpointOf = (id: string): string => `/d/${id}/`;

export function toDeploymentView(row: DeploymentRow): DeploymentView {
  return {
    id: row.id,
    name: row.name,
    runtime: row.runtime,
    status: row.status,
    error: row.error,
    version: row.currentVersion,
    endpoint: endpointOf(row.id),
    started_at: row.startedAt ? row.startedAt.toISOString() : null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function toVersionView(row: VersionRow, current: number): VersionView {
  return {
    version_number: row.versionNumber,
    files: row.files.map(({ path, size }) => ({ path, size })),
    build_command: row.config.build_command,
    start_command: row.config.start_command,
    port: row.config.port,
    health_check_path: row.config.health_check_path,
    private: row.config.private,
    env_vars: row.config.env_names,
    current: row.versionNumber === current,
    created_at: row.createdAt.toISOString(),
  };
}
