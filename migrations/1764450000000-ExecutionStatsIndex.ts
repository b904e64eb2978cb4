import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A user's run statistics (GetExecutionStatsQuery) aggregate status, language
 * and execution_time_ms over all of the user's runs. With (user_id,
 * created_at) alone each of those rows is fetched from the table (for a user
 * with 200k runs PostgreSQL reads the whole table instead); with the three
 * columns INCLUDEd in the index the statement is an index-only scan.
 *
 * The index replaces executions_user_id_idx under the same name and with the
 * same key, so the run history lists use it as before. The extra columns cost
 * no HOT updates: every update of a run sets status, which the partial index
 * executions_unfinished_idx already names.
 *
 * Built inside the migration's transaction (not CONCURRENTLY): the table's
 * writes wait for the build, about 2 s per million runs.
 */
export class ExecutionStatsIndex1764450000000 implements MigrationInterface {
  name = 'ExecutionStatsIndex1764450000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX executions_user_id_covering_idx ON executions (user_id, created_at DESC) INCLUDE (status, language, execution_time_ms)`);
    await db.query(`DROP INDEX executions_user_id_idx`);
    await db.query(`ALTER INDEX executions_user_id_covering_idx RENAME TO executions_user_id_idx`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX executions_user_id_plain_idx ON executions (user_id, created_at DESC)`);
    await db.query(`DROP INDEX executions_user_id_idx`);
    await db.query(`ALTER INDEX executions_user_id_plain_idx RENAME TO executions_user_id_idx`);
  }
}
