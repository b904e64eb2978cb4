/** Log levels, least severe first: a `level` filter means "this one or a later one". */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_SOURCES = ['stdout', 'stderr', 'platform'] as const;
export type LogSource = (typeof LOG_SOURCES)[number];

/** The levels at least as severe as `level`. */
export function levelsFrom(level: LogLevel): LogLevel[] {
  return LOG_LEVELS.slice(LOG_LEVELS.indexOf(level));
}

/** What a caller hands DeploymentLogWriter.append. */
export interface DeploymentLogInput {
  source: LogSource;
  /** Default: `warn` for stderr, `info` otherwise. */
  level?: LogLevel;
  message: string;
  /** The caller already cut the line (AppSandbox does, at MAX_LINE_BYTES). */
  truncated?: boolean;
  metadata?: Record<string, unknown>;
}

/** One deployment_logs row as written (seq comes from the table). */
export interface DeploymentLogRow {
  deploymentId: string;
  createdAt: Date;
  level: LogLevel;
  source: LogSource;
  message: string;
  truncated: boolean;
  metadata: Record<string, unknown>;
}

/** One line as GET /deployments/:id/logs shows it. */
export interface DeploymentLogView {
  timestamp: string;
  level: LogLevel;
  source: LogSource;
  message: string;
  truncated: boolean;
  metadata: Record<string, unknown>;
}

export interface DeploymentLogPage {
  logs: DeploymentLogView[];
  /** Give it back as `cursor` (with the same filters) for the next, older page; null after the last. */
  next_cursor: string | null;
}
