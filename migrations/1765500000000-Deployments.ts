import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deployments and their versions. A deployment's `status` is where its
 * lifecycle stands (deployment-state.ts); `desired_state` is what its owner
 * asked for, so a restarted platform brings back what should be running.
 * Every create or change makes a version (files on disk under
 * DATA_DIR/deployments/<id>/v<n>, their manifest here, the config with the
 * variables sealed by SecretBox); `current_version` is the one that runs.
 */
export class Deployments1765500000000 implements MigrationInterface {
  name = 'Deployments1765500000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE deployments (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name varchar(100) NOT NULL,
        runtime varchar(16) NOT NULL CHECK (runtime IN ('nodejs', 'python', 'manifest')),
        status varchar(16) NOT NULL CHECK (status IN ('pending', 'building', 'starting', 'running', 'stopping', 'stopped', 'failed', 'restarting')),
        desired_state varchar(8) NOT NULL DEFAULT 'running' CHECK (desired_state IN ('running', 'stopped')),
        current_version integer NOT NULL DEFAULT 1,
        error text,
        started_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX deployments_user_created_idx ON deployments (user_id, created_at DESC, id DESC)`);
    await db.query(`CREATE INDEX deployments_desired_running_idx ON deployments (desired_state) WHERE desired_state = 'running'`);
    await db.query(`
      CREATE TABLE deployment_versions (
        deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
        version_number integer NOT NULL,
        files jsonb NOT NULL,
        config jsonb NOT NULL,
        env_vars_sealed text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (deployment_id, version_number)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE deployment_versions`);
    await db.query(`DROP TABLE deployments`);
  }
}
