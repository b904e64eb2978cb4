import { Column, Entity, PrimaryColumn } from 'typeorm';

/** How a provider's API is called: `openai` for any OpenAI-compatible API, `anthropic` for Anthropic's Messages API. */
export const API_STYLES = ['openai', 'anthropic'] as const;
export type ApiStyle = (typeof API_STYLES)[number];

/**
 * A provider the platform can call (table and the seven seeded providers:
 * migration 1764600000000-AiCatalog). `apiKeySealed` is the platform's own
 * key for it, sealed by SecretBox; nothing outside the commands that set it
 * ever sees more of it than `apiKeyMask`.
 */
@Entity('ai_providers')
export class AiProviderEntity {
  @PrimaryColumn('uuid')
  id!: string;

  /** `openai`, `ollama`, …: how models and other contexts name the provider; never changes. */
  @Column({ type: 'varchar', length: 32 })
  providerKey!: string;

  @Column({ type: 'varchar', length: 100 })
  displayName!: string;

  @Column({ type: 'varchar', length: 2048, nullable: true })
  defaultBaseUrl!: string | null;

  @Column({ type: 'varchar', length: 16 })
  apiStyle!: ApiStyle;

  @Column({ type: 'text', nullable: true })
  apiKeySealed!: string | null;

  /** The key as it may be shown (`sk-…abcd`); set and cleared with apiKeySealed. */
  @Column({ type: 'varchar', length: 32, nullable: true })
  apiKeyMask!: string | null;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;

  @Column({ type: 'integer', default: 0 })
  sortOrder!: number;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
