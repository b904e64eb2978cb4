import { COPY_BYTES, CopyRowEncoder, copyFromStdinSql, maxUtf8Bytes } from '../../../common/database/copy-encoding';
import { DeploymentLogRow } from './deployment-log';

/** deployment_logs' columns as DeploymentLogWriter writes them (seq is the table's). */
export const COPY_COLUMNS = ['deployment_id', 'created_at', 'level', 'source', 'message', 'truncated', 'metadata'] as const;
export const COPY_SQL = copyFromStdinSql('deployment_logs', COPY_COLUMNS);

/** Field count, a length word per column, uuid, timestamp, boolean, jsonb version. */
const FIXED_ROW_BYTES = COPY_BYTES.fieldCount + COPY_COLUMNS.length * COPY_BYTES.length + COPY_BYTES.uuid + COPY_BYTES.timestamptz +
  COPY_BYTES.boolean + COPY_BYTES.jsonbVersion;

/** Whether a plain object has no own enumerable keys (JSON '{}'), without building the array Object.keys would. */
function isEmpty(object: Record<string, unknown>): boolean {
  if (Object.getPrototypeOf(object) !== Object.prototype) return false;
  for (const key in object) if (Object.hasOwn(object, key)) return false;
  return true;
}

/** One deployment_logs row, in COPY_COLUMNS order. */
export function deploymentLogRow(row: DeploymentLogRow, encoder: CopyRowEncoder): void {
  // An app's output line has no metadata: no JSON.stringify for each of them.
  const metadata = isEmpty(row.metadata) ? '{}' : JSON.stringify(row.metadata);
  const chars = row.level.length + row.source.length + row.message.length + metadata.length;
  encoder.startRow(COPY_COLUMNS.length, FIXED_ROW_BYTES + maxUtf8Bytes(chars));
  encoder.uuid(row.deploymentId);
  encoder.timestamptz(row.createdAt);
  encoder.text(row.level);
  encoder.text(row.source);
  encoder.text(row.message);
  encoder.boolean(row.truncated);
  encoder.jsonb(metadata);
}
