import { Column, JoinColumn, ManyToOne, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { UserEntity } from './user.entity';

/** One login. Holds the hash of the current refresh token only. */
@Index('user_sessions_user_id_idx', ['userId', 'createdAt'])
@Index('user_sessions_expires_at_idx', ['expiresAt'])
@Entity('user_sessions')
export class UserSessionEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid')
  userId!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'user_sessions_user_id_fkey' })
  user?: UserEntity;

  @Column({ type: 'char', length: 64 })
  refreshTokenHash!: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  userAgent!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  lastUsedAt!: Date;

  @Column({ type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ type: 'varchar', length: 30, nullable: true })
  revokedReason!: string | null;
}
