import { Param, PipeTransform } from '@nestjs/common';
import { AppError } from '../errors/app-error';
import { ErrorCode } from '../errors/error-code';
import { UUID_PATTERN as UUID } from '../ids';

/** `value` as a lowercase UUID, or 400 VALIDATION_ERROR naming the field `name`. */
export function parseUuid(value: string, name: string): string {
  if (!UUID.test(value)) {
    throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields: { [name]: [`${name} must be a UUID`] } });
  }
  return value.toLowerCase();
}

class ParseUuid implements PipeTransform<string, string> {
  constructor(private readonly name: string) {}

  transform(value: string): string {
    return parseUuid(value, this.name);
  }
}

/** A route parameter that must be a UUID (400 with field details otherwise). */
export const UuidParam = (name = 'id'): ParameterDecorator => Param(name, new ParseUuid(name));
