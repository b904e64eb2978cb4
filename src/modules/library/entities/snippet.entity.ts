import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type SnippetLanguage = 'python' | 'javascript';

/**
 * A saved piece of code (the table is created by migration
 * 1764100000000-Snippets, with the pg_trgm and tags GIN indexes that
 * TypeORM cannot declare).
 */
@Entity('snippets')
@Index('snippets_user_id_idx', ['userId', 'createdAt'])
export class SnippetEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid')
  userId!: string;

  @Column({ type: 'varchar', length: 200 })
  title!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  @Column('text')
  code!: string;

  @Column({ type: 'varchar', length: 20 })
  language!: SnippetLanguage;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  tags!: string[];

  @Column({ type: 'boolean', default: false })
  isPublic!: boolean;

  @Column({ type: 'uuid', nullable: true })
  environmentId!: string | null;

  @Column({ type: 'uuid', nullable: true })
  savedFromId!: string | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
