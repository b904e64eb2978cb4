import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The memory a deployed app may use (its whole process tree, through a memory
 * cgroup), per plan. Never unlimited: an app without a ceiling could take the
 * host's memory from everything else.
 */
export class PlanDeploymentMemory1766000000000 implements MigrationInterface {
  name = 'PlanDeploymentMemory1766000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE plans ADD COLUMN deployment_memory_mb integer NOT NULL DEFAULT 256 CHECK (deployment_memory_mb BETWEEN 16 AND 65536)`);
    await db.query(`
      UPDATE plans SET deployment_memory_mb = v.mb
      FROM (VALUES ('free', 256), ('basic', 512), ('premium', 1024), ('enterprise', 2048)) AS v (id, mb)
      WHERE plans.id = v.id`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE plans DROP COLUMN deployment_memory_mb`);
  }
}
