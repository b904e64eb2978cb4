import { Column, Entity, PrimaryColumn } from 'typeorm';

export const PROJECT_TYPES = ['nodejs', 'python', 'static', 'other'] as const;
export type ProjectType = (typeof PROJECT_TYPES)[number];

/**
 * A JSON object, its values as JSON.parse makes them. `any` rather than a
 * recursive JSON type: TypeORM's partial-entity types recurse into a column's
 * type and give up on a recursive one.
 */
export type JsonObject = Record<string, any>;

/**
 * A user's project (table, its one-name-per-user constraint and its index:
 * migration 1764300000000-Files). Its files live in the files context's
 * table, in a tree of their own (`files.project_id`), and go with it.
 */
@Entity('projects')
export class ProjectEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid')
  userId!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  @Column({ type: 'varchar', length: 10 })
  type!: ProjectType;

  @Column({ type: 'varchar', length: 2048, nullable: true })
  repositoryUrl!: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  defaultConfig!: JsonObject;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
