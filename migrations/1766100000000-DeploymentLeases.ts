import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which replica runs a deployment: one row per deployment that a replica has
 * taken, renewed by that replica while it lives (expires_at moves on), taken
 * over by another once it has expired. replica_url is where the other replicas
 * send the deployment's proxied requests and upgrades. The lease goes with its
 * deployment.
 */
export class DeploymentLeases1766100000000 implements MigrationInterface {
  name = 'DeploymentLeases1766100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE deployment_leases (
        deployment_id uuid PRIMARY KEY REFERENCES deployments (id) ON DELETE CASCADE,
        replica_id uuid NOT NULL,
        replica_url text NOT NULL,
        acquired_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    // Each replica renews all of its leases with one UPDATE by replica_id.
    await db.query(`CREATE INDEX deployment_leases_replica_idx ON deployment_leases (replica_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE deployment_leases`);
  }
}
