import { Column, Entity, PrimaryColumn } from 'typeorm';

const bigintAsNumber = {
  to: (value: number) => value,
  from: (value: string) => Number(value),
};

export type FileKind = 'file' | 'folder';

/**
 * A file or a folder in a user's tree, or in a project's (table and indexes:
 * migration 1764300000000-Files). `folder` is the parent's path (`/` or
 * `/a/b`); a file's bytes are the blob `blobHash`.
 */
@Entity('files')
export class FileEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid')
  userId!: string;

  @Column({ type: 'uuid', nullable: true })
  projectId!: string | null;

  @Column({ type: 'varchar', length: 6 })
  kind!: FileKind;

  @Column({ type: 'varchar', length: 1024 })
  folder!: string;

  @Column({ type: 'varchar', length: 255 })
  name!: string;

  @Column({ type: 'char', length: 64, nullable: true })
  blobHash!: string | null;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  size!: number;

  @Column({ type: 'varchar', length: 255, nullable: true })
  mimeType!: string | null;

  @Column({ type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'timestamptz' })
  updatedAt!: Date;
}
