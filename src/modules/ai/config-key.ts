import { SecretBox, SecretBoxError } from '../../common/crypto/secret-box';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import type { AiConfigEntity } from './entities/ai-config.entity';

/**
 * An AI config's key, opened; null when the config has none (Ollama needs
 * none). A key sealed under an encryption key this server does not hold (or
 * altered) is a 422 asking the user to save it again, never garbage sent on.
 */
export function openConfigKey(box: SecretBox, config: Pick<AiConfigEntity, 'id' | 'name' | 'apiKeySealed'>): string | null {
  if (config.apiKeySealed === null) return null;
  try {
    return box.open(config.apiKeySealed);
  } catch (error) {
    if (!(error instanceof SecretBoxError)) throw error;
    throw new AppError(
      ErrorCode.UNPROCESSABLE,
      `The API key of AI config "${config.name}" cannot be decrypted: it was sealed under an encryption key this server does not hold, or altered. Save the key again`,
      { config_id: config.id, field: 'api_key' },
    );
  }
}
