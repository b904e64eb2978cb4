import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Role } from '../../../common/auth/principal';

export type UserStatus = 'active' | 'disabled' | 'deleted';

// The lower() unique indexes and the pg_trgm GIN indexes of user search are
// expressions TypeORM cannot describe; the migrations own them (synchronize:
// false: TypeORM's schema tools leave them alone).
@Index('users_username_lower_key', { synchronize: false })
@Index('users_email_lower_key', { synchronize: false })
@Index('users_username_trgm_idx', { synchronize: false })
@Index('users_name_trgm_idx', { synchronize: false })
@Index('users_created_at_idx', ['createdAt'])
@Check('users_role_check', `role IN ('user', 'admin')`)
@Check('users_status_check', `status IN ('active', 'disabled', 'deleted')`)
@Entity('users')
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 32 })
  username!: string;

  @Column({ type: 'varchar', length: 255 })
  email!: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  name!: string | null;

  @Column({ type: 'varchar', length: 100 })
  passwordHash!: string;

  @Column({ type: 'varchar', length: 10, default: 'user' })
  role!: Role;

  @Column({ type: 'varchar', length: 20, default: 'free' })
  level!: string;

  // By name: the plans context owns PlanEntity, this only mirrors the foreign key.
  @ManyToOne('PlanEntity', { onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'level', foreignKeyConstraintName: 'users_level_fkey' })
  plan?: unknown;

  @Column({ type: 'varchar', length: 10, default: 'active' })
  status!: UserStatus;

  @Column({ type: 'boolean', default: false })
  emailVerified!: boolean;

  @Column({ type: 'varchar', length: 500, nullable: true })
  avatarUrl!: string | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  bio!: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  website!: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  location!: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  company!: string | null;

  @Column({ type: 'varchar', length: 39, nullable: true })
  github!: string | null;

  /** A private profile is still found by its username, never by its name. */
  @Column({ type: 'boolean', default: true })
  isPublic!: boolean;

  @Column({ type: 'integer', default: 0 })
  failedLoginCount!: number;

  @Column({ type: 'timestamptz', nullable: true })
  failedLoginWindowStart!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lockedUntil!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  lastLoginAt!: Date | null;
}
