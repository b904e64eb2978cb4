import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Files and projects. File contents are content-addressed blobs (SHA-256),
 * stored once however many files hold them: `blobs.ref_count` counts the rows
 * that point at a blob (files and avatars); a blob whose count reaches zero is
 * deleted from storage, and `orphaned_at` lets the sweep find any a crash left.
 * `files` holds both files and folders of a user's tree (or of a project's:
 * each project has a tree of its own); `storage_usage` is each user's counted
 * total, updated in the same transaction as the rows, so the quota holds under
 * concurrent uploads.
 */
export class Files1764300000000 implements MigrationInterface {
  name = 'Files1764300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE blobs (
        hash char(64) PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
        size bigint NOT NULL CHECK (size >= 0),
        ref_count integer NOT NULL CHECK (ref_count >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        orphaned_at timestamptz
      )`);
    await db.query(`CREATE INDEX blobs_orphaned_idx ON blobs (orphaned_at) WHERE ref_count = 0`);

    await db.query(`
      CREATE TABLE projects (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name varchar(100) NOT NULL,
        description text NOT NULL DEFAULT '',
        type varchar(10) NOT NULL CHECK (type IN ('nodejs', 'python', 'static', 'other')),
        repository_url varchar(2048),
        default_config jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT projects_user_id_name_key UNIQUE (user_id, name)
      )`);
    await db.query(`CREATE INDEX projects_user_created_idx ON projects (user_id, created_at DESC, id DESC)`);

    await db.query(`
      CREATE TABLE files (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        project_id uuid REFERENCES projects (id) ON DELETE CASCADE,
        kind varchar(6) NOT NULL CHECK (kind IN ('file', 'folder')),
        folder varchar(1024) NOT NULL,
        name varchar(255) NOT NULL,
        blob_hash char(64) REFERENCES blobs (hash),
        size bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
        mime_type varchar(255),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((kind = 'file') = (blob_hash IS NOT NULL))
      )`);
    // One entry of a name per folder, in each tree (a user's own, each project's).
    await db.query(`CREATE UNIQUE INDEX files_tree_folder_name_key ON files (user_id, project_id, folder, name) NULLS NOT DISTINCT`);
    await db.query(`CREATE INDEX files_blob_hash_idx ON files (blob_hash) WHERE blob_hash IS NOT NULL`);
    await db.query(`CREATE INDEX files_project_idx ON files (project_id) WHERE project_id IS NOT NULL`);

    await db.query(`
      CREATE TABLE storage_usage (
        user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        used_bytes bigint NOT NULL DEFAULT 0 CHECK (used_bytes >= 0)
      )`);

    // A user's avatar: an image re-encoded by the server, served by its file name.
    await db.query(`
      CREATE TABLE avatars (
        user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        filename varchar(100) NOT NULL UNIQUE,
        blob_hash char(64) NOT NULL REFERENCES blobs (hash),
        mime_type varchar(50) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE avatars`);
    await db.query(`DROP TABLE storage_usage`);
    await db.query(`DROP TABLE files`);
    await db.query(`DROP TABLE projects`);
    await db.query(`DROP TABLE blobs`);
  }
}
