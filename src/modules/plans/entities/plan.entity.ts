import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

const bigintAsNumber = {
  to: (value: number | null) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/** A plan (user level) and its limits; NULL means unlimited. */
@Entity('plans')
export class PlanEntity {
  @PrimaryColumn({ type: 'varchar', length: 20 })
  id!: string;

  @Column({ type: 'varchar', length: 50 })
  name!: string;

  @Column({ type: 'integer' })
  sortOrder!: number;

  @Column({ type: 'integer' })
  executionTimeoutSeconds!: number;

  @Column({ type: 'integer' })
  executionMemoryMb!: number;

  @Column({ type: 'integer', nullable: true })
  executionsPerDay!: number | null;

  @Column({ type: 'integer', nullable: true })
  apiExecutionsPerDay!: number | null;

  @Column({ type: 'integer', nullable: true })
  maxApiKeys!: number | null;

  @Column({ type: 'integer', nullable: true })
  maxEnvironments!: number | null;

  @Column({ type: 'integer', nullable: true })
  maxConcurrentExecutions!: number | null;

  @Column({ type: 'integer', nullable: true })
  deploymentsPerDay!: number | null;

  @Column({ type: 'integer', nullable: true })
  maxRunningDeployments!: number | null;

  @Column({ type: 'integer' })
  deploymentMemoryMb!: number;

  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber })
  storageBytes!: number | null;

  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber })
  maxUploadBytes!: number | null;

  @Column({ type: 'integer', nullable: true })
  requestsPerMinute!: number | null;

  @Column({ type: 'integer', nullable: true })
  requestsPerHour!: number | null;

  @Column({ type: 'integer', nullable: true })
  aiRequestsPerDay!: number | null;

  @Column({ type: 'integer', nullable: true })
  aiTokensPerMonth!: number | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
