/**
 * How providers and models are named: the rules the API checks and the
 * queries other contexts send rely on (a name that cannot exist is not looked
 * up, so odd input such as a NUL byte never reaches PostgreSQL).
 */

/** A provider_key: lowercase letters, digits, `-` and `_`, starting with a letter (`openai`, `my-vllm`); the column's check too. */
export const PROVIDER_KEY = /^[a-z][a-z0-9_-]{0,31}$/;

/** A model name as providers spell them: `gpt-4o`, `Qwen/Qwen2.5-Coder-32B-Instruct`, `llama3.1:8b`. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/;
