import type { ExecutionResponse, TestCaseResponse } from './http/dto/execution.dto';
import type { ExecutionEntity } from './entities/execution.entity';

/** The wire shape of a run: a whitelist, so nothing else of the row leaks. */
export function toExecutionResponse(row: ExecutionEntity): ExecutionResponse {
  const response: ExecutionResponse = {
    id: row.id,
    status: row.status,
    exit_code: row.exitCode,
    stdout: row.stdout,
    stderr: row.stderr,
    execution_time_ms: row.executionTimeMs,
    cpu_time_ms: row.cpuTimeMs,
    memory_used_kb: row.memoryUsedKb,
    truncated: { stdout: row.stdoutTruncated, stderr: row.stderrTruncated },
    language: row.language,
    environment: row.environment,
    source: row.source,
    limits: { timeout_ms: row.timeoutMs, memory_mb: row.memoryMb },
    code: row.code,
    created_at: row.createdAt.toISOString(),
    started_at: row.startedAt?.toISOString() ?? null,
    finished_at: row.finishedAt?.toISOString() ?? null,
  };
  if (row.tests) response.tests = row.tests.filter((test): test is TestCaseResponse => 'passed' in test);
  return response;
}
