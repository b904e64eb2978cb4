import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { Language, RunStatus } from '../sandbox/sandbox';

export type ExecutionStatus = 'queued' | 'running' | RunStatus;
export type ExecutionSource = 'web' | 'api';

/** Whether a run has ended (any status but queued and running). */
export const FINISHED = (status: string) => status !== 'queued' && status !== 'running';

/** One test case of a run with `tests[]`, as asked. */
export interface TestCaseInput {
  stdin: string;
  expected_output: string;
}

/** One test case once it ran. */
export interface TestCaseResult extends TestCaseInput {
  status: ExecutionStatus;
  passed: boolean;
  exit_code: number | null;
  stdout: string;
  stderr: string;
  truncated: { stdout: boolean; stderr: boolean };
  execution_time_ms: number;
  memory_used_kb: number;
}

/** A code run (the table is created by migration 1764000000000-Executions). */
@Entity('executions')
@Index('executions_user_id_idx', ['userId', 'createdAt'])
@Index('executions_created_at_idx', ['createdAt'])
export class ExecutionEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid')
  userId!: string;

  @Column({ type: 'uuid', nullable: true })
  apiKeyId!: string | null;

  @Column({ type: 'varchar', length: 10 })
  source!: ExecutionSource;

  @Column({ type: 'varchar', length: 20 })
  language!: Language;

  @Column({ type: 'varchar', length: 100, default: 'system' })
  environment!: string;

  @Column({ type: 'uuid', nullable: true })
  environmentId!: string | null;

  @Column('text')
  code!: string;

  @Column({ type: 'text', default: '' })
  stdin!: string;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  args!: string[];

  @Column({ type: 'jsonb', default: () => "'[]'" })
  files!: Array<{ path: string; content: string }>;

  @Column({ type: 'jsonb', nullable: true })
  tests!: Array<TestCaseInput | TestCaseResult> | null;

  @Column({ type: 'varchar', length: 20 })
  status!: ExecutionStatus;

  @Column({ type: 'integer', nullable: true })
  exitCode!: number | null;

  @Column({ type: 'text', default: '' })
  stdout!: string;

  @Column({ type: 'text', default: '' })
  stderr!: string;

  @Column({ type: 'boolean', default: false })
  stdoutTruncated!: boolean;

  @Column({ type: 'boolean', default: false })
  stderrTruncated!: boolean;

  @Column({ type: 'integer', nullable: true })
  executionTimeMs!: number | null;

  @Column({ type: 'integer', nullable: true })
  cpuTimeMs!: number | null;

  @Column({ type: 'integer', nullable: true })
  memoryUsedKb!: number | null;

  @Column('integer')
  timeoutMs!: number;

  @Column('integer')
  memoryMb!: number;

  @Column({ type: 'varchar', length: 200, nullable: true })
  idempotencyKey!: string | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
