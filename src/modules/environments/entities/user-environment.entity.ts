import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';

export type EnvironmentBackend = 'venv' | 'conda';
export type EnvironmentStatus = 'creating' | 'ready';

/** A user's Python environment (table from migration 1764200000000-Environments). */
@Entity('user_environments')
@Unique('user_environments_user_id_name_key', ['userId', 'name'])
@Index('user_environments_public_name_idx', ['name', 'createdAt'], { where: 'is_public' })
export class UserEnvironmentEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid')
  userId!: string;

  @Column({ type: 'varchar', length: 64 })
  name!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  @Column({ type: 'varchar', length: 20, default: '' })
  pythonVersion!: string;

  @Column({ type: 'varchar', length: 10 })
  backend!: EnvironmentBackend;

  @Column({ type: 'boolean', default: false })
  isPublic!: boolean;

  /** The directory: `<DATA_DIR>/environments/<id>`. */
  @Column('text')
  path!: string;

  @Column({ type: 'varchar', length: 10, default: 'creating' })
  status!: EnvironmentStatus;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
