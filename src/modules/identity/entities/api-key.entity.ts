import { Column, JoinColumn, ManyToOne, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { UserEntity } from './user.entity';

const bigintAsNumber = { to: (v: number) => v, from: (v: string) => Number(v) };

/** An API key; only its SHA-256 hash is stored. */
@Index('api_keys_key_hash_key', ['keyHash'], { unique: true })
@Index('api_keys_user_id_idx', ['userId', 'createdAt'])
@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  userId!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'api_keys_user_id_fkey' })
  user?: UserEntity;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'char', length: 64 })
  keyHash!: string;

  @Column({ type: 'varchar', length: 20 })
  displayPrefix!: string;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  scopes!: string[];

  @Column({ type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @Column({ type: 'bigint', default: 0, transformer: bigintAsNumber })
  usageCount!: number;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  /** Tokens (prompt + completion) the key may spend on AI calls per UTC month; null: no budget of its own. */
  @Column({ type: 'bigint', nullable: true, transformer: { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) } })
  aiTokenBudget!: number | null;

  /** The model names the key may call; null: every model. */
  @Column({ type: 'text', array: true, nullable: true })
  aiModels!: string[] | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
