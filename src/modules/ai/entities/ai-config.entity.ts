import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A user's AI config (table, its one-name-per-user constraint and its
 * one-active-per-provider index: migration 1764700000000-AiConfigs). The API
 * key is only ever stored sealed; `apiKeyMasked` is set and cleared with it.
 */
@Entity('ai_configs')
export class AiConfigEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid')
  userId!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  /** A provider_key of the AI catalog (`openai`, `ollama`, …). */
  @Column({ type: 'varchar', length: 32 })
  provider!: string;

  @Column({ type: 'varchar', length: 2048, nullable: true })
  baseUrl!: string | null;

  /** SecretBox.seal of the key; null when the config has none (ollama needs none). */
  @Column({ type: 'text', nullable: true })
  apiKeySealed!: string | null;

  /** maskSecret of the key, e.g. `sk-…abcd`. */
  @Column({ type: 'varchar', length: 32, nullable: true })
  apiKeyMasked!: string | null;

  @Column({ type: 'varchar', length: 100 })
  model!: string;

  @Column({ type: 'double precision', default: 0.7 })
  temperature!: number;

  @Column({ type: 'integer', default: 2048 })
  maxTokens!: number;

  @Column({ type: 'boolean', default: false })
  isActive!: boolean;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
