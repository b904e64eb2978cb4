import type { ApiResponse } from './test-app';

/** Asserts the error envelope with the given status and code. */
export function expectError(response: ApiResponse, status: number, code: string): void {
  if (response.status !== status || response.body?.error?.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${response.status} ${JSON.stringify(response.body)}`);
  }
  expect(typeof response.body.error.message).toBe('string');
  expect(typeof response.body.error.request_id).toBe('string');
}

/** Asserts a 400 VALIDATION_ERROR that names each of these fields. */
export function expectValidation(response: ApiResponse, ...fields: string[]): void {
  expectError(response, 400, 'VALIDATION_ERROR');
  const reported = Object.keys(response.body.error.details.fields ?? {});
  for (const field of fields) expect(reported).toContain(field);
}
