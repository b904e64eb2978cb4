import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Messages between replicas too large for NOTIFY's 8 000-byte payload
 * (ClusterBus): the row is written, NOTIFY carries its id, every replica reads
 * it within milliseconds, and rows older than a few minutes are deleted.
 * Unlogged: they are worthless after a crash, and skipping the WAL keeps a
 * burst of large realtime messages cheap.
 */
export class ClusterMessages1765300000000 implements MigrationInterface {
  name = 'ClusterMessages1765300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE UNLOGGED TABLE cluster_messages (
        id bigserial PRIMARY KEY,
        body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX cluster_messages_created_idx ON cluster_messages (created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE cluster_messages`);
  }
}
