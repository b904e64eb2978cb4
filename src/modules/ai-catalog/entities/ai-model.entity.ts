import { Column, Entity, PrimaryColumn } from 'typeorm';

export const MODEL_TYPES = ['chat', 'completion', 'embedding'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/** numeric(12, 6) arrives as a string (PostgreSQL's exact decimal); six decimals fit a double exactly enough for prices. */
const numericAsNumber = { to: (value: number) => value, from: (value: string) => Number(value) };

/**
 * A model a provider offers (table and the seeded models: migration
 * 1764600000000-AiCatalog). `provider` holds the provider's provider_key;
 * model names are unique per provider. Prices are USD per 1,000 tokens.
 */
@Entity('ai_models')
export class AiModelEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 32 })
  provider!: string;

  @Column({ type: 'varchar', length: 200 })
  modelName!: string;

  @Column({ type: 'varchar', length: 100 })
  displayName!: string;

  @Column({ type: 'varchar', length: 16, default: 'chat' })
  modelType!: ModelType;

  /** The model's context size, in tokens. */
  @Column({ type: 'integer' })
  maxTokens!: number;

  @Column({ type: 'boolean', default: true })
  supportsStreaming!: boolean;

  @Column({ type: 'boolean', default: false })
  supportsFunctionCalling!: boolean;

  @Column({ type: 'boolean', default: false })
  supportsVision!: boolean;

  // Named by hand: the naming strategy would write input_price_per1k.
  @Column({ name: 'input_price_per_1k', type: 'numeric', precision: 12, scale: 6, default: 0, transformer: numericAsNumber })
  inputPricePer1k!: number;

  @Column({ name: 'output_price_per_1k', type: 'numeric', precision: 12, scale: 6, default: 0, transformer: numericAsNumber })
  outputPricePer1k!: number;

  @Column({ type: 'text', default: '' })
  description!: string;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;

  @Column({ type: 'integer', default: 0 })
  sortOrder!: number;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
