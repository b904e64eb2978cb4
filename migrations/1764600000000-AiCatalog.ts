import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The AI catalog: the providers the platform can call and the models each
 * offers, with their context sizes and prices (USD per 1,000 tokens).
 *
 * A model names its provider by `provider_key`, not by id: other contexts
 * (users' AI configurations, chat) store that key, which reads the same in
 * every installation. The foreign key keeps it real; keys never change (the
 * API does not allow it), and providers are only ever deactivated, never
 * deleted, so models never lose theirs.
 *
 * `api_key_sealed` is the platform's own key for a provider, sealed by
 * SecretBox (AES-256-GCM, `v1:<key id>:...`); `api_key_mask` is how it is
 * shown (`sk-…abcd`), made when the key is set, so listing providers never
 * opens a secret.
 *
 * The seeded prices are the providers' list prices in 2025, rounded to six
 * decimals; admins keep them current through the API. Seeded rows have fixed
 * ids, the same in every installation, so the API's examples can name them.
 */
export class AiCatalog1764600000000 implements MigrationInterface {
  name = 'AiCatalog1764600000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE ai_providers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        provider_key varchar(32) NOT NULL CHECK (provider_key ~ '^[a-z][a-z0-9_-]{0,31}$'),
        display_name varchar(100) NOT NULL,
        default_base_url varchar(2048),
        api_style varchar(16) NOT NULL CHECK (api_style IN ('openai', 'anthropic')),
        api_key_sealed text,
        api_key_mask varchar(32),
        is_active boolean NOT NULL DEFAULT true,
        sort_order integer NOT NULL DEFAULT 0 CHECK (sort_order BETWEEN 0 AND 1000000),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ai_providers_provider_key_key UNIQUE (provider_key),
        CONSTRAINT ai_providers_api_key_check CHECK ((api_key_sealed IS NULL) = (api_key_mask IS NULL))
      )`);

    await db.query(`
      CREATE TABLE ai_models (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        provider varchar(32) NOT NULL,
        model_name varchar(200) NOT NULL,
        display_name varchar(100) NOT NULL,
        model_type varchar(16) NOT NULL DEFAULT 'chat' CHECK (model_type IN ('chat', 'completion', 'embedding')),
        max_tokens integer NOT NULL CHECK (max_tokens BETWEEN 1 AND 10000000),
        supports_streaming boolean NOT NULL DEFAULT true,
        supports_function_calling boolean NOT NULL DEFAULT false,
        supports_vision boolean NOT NULL DEFAULT false,
        input_price_per_1k numeric(12, 6) NOT NULL DEFAULT 0 CHECK (input_price_per_1k >= 0),
        output_price_per_1k numeric(12, 6) NOT NULL DEFAULT 0 CHECK (output_price_per_1k >= 0),
        description text NOT NULL DEFAULT '',
        is_active boolean NOT NULL DEFAULT true,
        sort_order integer NOT NULL DEFAULT 0 CHECK (sort_order BETWEEN 0 AND 1000000),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ai_models_provider_fkey FOREIGN KEY (provider) REFERENCES ai_providers (provider_key),
        CONSTRAINT ai_models_provider_model_name_key UNIQUE (provider, model_name)
      )`);
    // The catalog is a few dozen rows: lists sort them in memory, and the unique
    // constraint's index serves the lookups by provider and model name.

    await db.query(`
      INSERT INTO ai_providers (id, provider_key, display_name, default_base_url, api_style, sort_order)
      VALUES
        ('01938000-0000-7000-8000-000000000001', 'openai', 'OpenAI', 'https://api.openai.com/v1', 'openai', 10),
        ('01938000-0000-7000-8000-000000000002', 'anthropic', 'Anthropic', 'https://api.anthropic.com', 'anthropic', 20),
        ('01938000-0000-7000-8000-000000000003', 'qwen', 'Qwen (Alibaba Cloud DashScope)', 'https://dashscope.aliyuncs.com/compatible-mode/v1', 'openai', 30),
        ('01938000-0000-7000-8000-000000000004', 'siliconflow', 'SiliconFlow', 'https://api.siliconflow.cn/v1', 'openai', 40),
        ('01938000-0000-7000-8000-000000000005', 'deepseek', 'DeepSeek', 'https://api.deepseek.com/v1', 'openai', 50),
        ('01938000-0000-7000-8000-000000000006', 'ollama', 'Ollama (local)', 'http://127.0.0.1:11434/v1', 'openai', 60),
        ('01938000-0000-7000-8000-000000000007', 'custom', 'Custom (OpenAI-compatible)', NULL, 'openai', 70)`);

    await db.query(`
      INSERT INTO ai_models (id, provider, model_name, display_name, model_type, max_tokens, supports_streaming, supports_function_calling,
        supports_vision, input_price_per_1k, output_price_per_1k, description, sort_order)
      VALUES
        ('01938000-0000-7000-8001-000000000001', 'openai', 'gpt-4o', 'GPT-4o', 'chat', 128000, true, true, true, 0.0025, 0.01, 'OpenAI''s multimodal flagship', 10),
        ('01938000-0000-7000-8001-000000000002', 'openai', 'gpt-4o-mini', 'GPT-4o mini', 'chat', 128000, true, true, true, 0.00015, 0.0006, 'Small, fast and cheap', 20),
        ('01938000-0000-7000-8001-000000000003', 'openai', 'o3-mini', 'o3-mini', 'chat', 200000, true, true, false, 0.0011, 0.0044, 'Reasoning model, strong at code and math', 30),
        ('01938000-0000-7000-8001-000000000004', 'anthropic', 'claude-sonnet-4-20250514', 'Claude Sonnet 4', 'chat', 200000, true, true, true, 0.003, 0.015, 'Anthropic''s balanced model, strong at code', 40),
        ('01938000-0000-7000-8001-000000000005', 'anthropic', 'claude-3-5-haiku-20241022', 'Claude 3.5 Haiku', 'chat', 200000, true, true, true, 0.0008, 0.004, 'Anthropic''s fastest model', 50),
        ('01938000-0000-7000-8001-000000000006', 'qwen', 'qwen-plus', 'Qwen Plus', 'chat', 131072, true, true, false, 0.0004, 0.0012, 'Balanced Qwen model', 60),
        ('01938000-0000-7000-8001-000000000007', 'qwen', 'qwen-max', 'Qwen Max', 'chat', 32768, true, true, false, 0.0016, 0.0064, 'The most capable Qwen model', 70),
        ('01938000-0000-7000-8001-000000000008', 'qwen', 'qwen2.5-coder-32b-instruct', 'Qwen2.5 Coder 32B', 'chat', 131072, true, true, false, 0.00028, 0.00084, 'Open Qwen model tuned for code', 80),
        ('01938000-0000-7000-8001-000000000009', 'siliconflow', 'Qwen/Qwen2.5-Coder-32B-Instruct', 'Qwen2.5 Coder 32B (SiliconFlow)', 'chat', 32768, true, true, false, 0.00018, 0.00018, 'Qwen2.5 Coder hosted by SiliconFlow', 90),
        ('01938000-0000-7000-8001-000000000010', 'deepseek', 'deepseek-chat', 'DeepSeek Chat', 'chat', 128000, true, true, false, 0.00028, 0.00042, 'DeepSeek''s general model', 100),
        ('01938000-0000-7000-8001-000000000011', 'deepseek', 'deepseek-reasoner', 'DeepSeek Reasoner', 'chat', 128000, true, false, false, 0.00028, 0.00042, 'DeepSeek''s reasoning model (thinks before it answers)', 110),
        ('01938000-0000-7000-8001-000000000012', 'ollama', 'llama3.1', 'Llama 3.1 (Ollama)', 'chat', 131072, true, true, false, 0, 0, 'Meta''s open model, run locally by Ollama', 120)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE ai_models`);
    await db.query(`DROP TABLE ai_providers`);
  }
}
