import { resourceTypeOf } from './audit-capture';

describe('resourceTypeOf', () => {
  it('names a route by its first resource segment, singular and snake_case', () => {
    expect(resourceTypeOf('/api/v1/api-keys/:id/toggle')).toBe('api_key');
    expect(resourceTypeOf('/api/v1/admin/users/:id')).toBe('user');
    expect(resourceTypeOf('/api/v1/auth/login')).toBe('auth');
  });
});
